//! "Did you mean" for misspelt keys and names.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1) + 1;
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&word, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let keys = ["frequency", "timeout", "importance", "debounce"];
        assert_eq!(closest("frequncy", keys), Some("frequency"));
        assert_eq!(closest("timout", keys), Some("timeout"));
        assert_eq!(closest("Importance", keys), Some("importance"));
        assert_eq!(closest("colour", keys), None);
    }
}
