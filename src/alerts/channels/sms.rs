//! `sms`: one text message per phone number, through Twilio or Plivo, tried in order.

use std::time::Duration;

use super::{Attempt, ChannelType, Reach};
use crate::alerts::alert::Alert;
use crate::alerts::providers::{self, PHONE, Provider};
use crate::config::read::{Fields, Reader};

#[derive(Debug, Clone)]
pub struct Sms {
    pub providers: Vec<Provider>,
}

impl ChannelType for Sms {
    const NAME: &'static str = "sms";
    const KEYS: &'static [&'static str] = &["providers"];
    const REACH: Reach = Reach::EachUser(PHONE);
    const FIX: &'static str = "the providers' account ids, tokens and from numbers, and the users' phone numbers";

    fn read(r: &mut Reader, f: &Fields) -> Option<Sms> {
        Some(Sms {
            providers: providers::read(r, f, providers::Use::Sms),
        })
    }

    fn send(&self, alert: &Alert, to: &str, timeout: Duration) -> Vec<Attempt> {
        providers::sms(&self.providers, to, alert, timeout)
    }
}
