//! `phone`: a call that speaks the alert, through Twilio or Plivo, tried in order. Calls
//! are for CRITICAL unless `min_importance` says otherwise, and never say that all is well.

use std::time::Duration;

use super::{Attempt, ChannelType, Reach};
use crate::alerts::alert::Alert;
use crate::alerts::providers::{self, PHONE, Provider};
use crate::config::read::{Fields, Reader};
use crate::core::Importance;

#[derive(Debug, Clone)]
pub struct Phone {
    pub providers: Vec<Provider>,
}

impl ChannelType for Phone {
    const NAME: &'static str = "phone";
    const KEYS: &'static [&'static str] = &["providers"];
    const REACH: Reach = Reach::EachUser(PHONE);
    const FIX: &'static str = "the providers' account ids, tokens and from numbers, and the users' phone numbers";
    const DEFAULT_MIN_IMPORTANCE: Importance = Importance::Critical;
    // Nobody wants a phone call to say that all is well.
    const SENDS_RECOVERY: bool = false;

    fn read(r: &mut Reader, f: &Fields) -> Option<Phone> {
        Some(Phone {
            providers: providers::read(r, f, providers::Use::Calls),
        })
    }

    fn send(&self, alert: &Alert, to: &str, timeout: Duration) -> Vec<Attempt> {
        providers::call(&self.providers, to, alert, timeout)
    }
}
