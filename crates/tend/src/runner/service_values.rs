//! Typed values of a service's own keys — sizes, signals, restart settings — read as
//! `values.rs` reads the step's: errors name the service and the key, raised at the value.

use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};

use super::values::{Expect, Field, Kind, expecting};
use crate::{ByteSize, MaxRestarts, RestartPolicy, Signal};

/// A size of more than 0 bytes: `"512KiB"`, `"10MiB"`, `"1GiB"`, or a number of bytes.
pub(super) struct Size;
/// A signal by name (`"TERM"`, `"SIGINT"`) or number (`15`).
pub(super) struct SignalValue;
/// `always`, `on_failure` or `never`.
pub(super) struct Policy;
/// A number of restarts, or `"unlimited"`.
pub(super) struct Budget;
/// A whole number from 1.
pub(super) struct AtLeastOne;

impl Kind for Size {
    type Output = ByteSize;
    const WHAT: &'static str = "a size such as \"512KiB\", \"10MiB\" or \"1GiB\"";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<ByteSize, D::Error> {
        d.deserialize_any(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, Size> {
    type Value = ByteSize;
    expecting!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
        ByteSize::parse_positive(v).map_err(|error| self.0.refuse(error))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
        ByteSize::parse_positive(&v.to_string()).map_err(|error| self.0.refuse(error))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
        ByteSize::parse_positive(&v.to_string()).map_err(|error| self.0.refuse(error))
    }
}

impl Kind for SignalValue {
    type Output = Signal;
    const WHAT: &'static str = "a signal name such as \"TERM\" or a number such as 15";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<Signal, D::Error> {
        d.deserialize_any(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, SignalValue> {
    type Value = Signal;
    expecting!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Signal, E> {
        v.parse().map_err(|error| self.0.refuse(error))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Signal, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Signal, E> {
        self.visit_str(&v.to_string())
    }
}

impl Kind for Policy {
    type Output = RestartPolicy;
    const WHAT: &'static str = "one of \"always\", \"on_failure\", \"never\"";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<RestartPolicy, D::Error> {
        d.deserialize_str(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, Policy> {
    type Value = RestartPolicy;
    expecting!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RestartPolicy, E> {
        v.parse().map_err(|_| {
            self.0.refuse(format!("`{v}` is not a restart policy (always, on_failure, never)"))
        })
    }
}

impl Kind for Budget {
    type Output = MaxRestarts;
    const WHAT: &'static str = "a whole number from 0, or \"unlimited\"";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<MaxRestarts, D::Error> {
        d.deserialize_any(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, Budget> {
    type Value = MaxRestarts;
    expecting!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<MaxRestarts, E> {
        match v {
            "unlimited" => Ok(MaxRestarts::Unlimited),
            _ => Err(self.0.refuse(format!("`{v}` is not a number of restarts or \"unlimited\""))),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<MaxRestarts, E> {
        u32::try_from(v).map(MaxRestarts::Limited).map_err(|_| self.0.out_of_range(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<MaxRestarts, E> {
        u32::try_from(v).map(MaxRestarts::Limited).map_err(|_| self.0.out_of_range(v))
    }
}

impl Kind for AtLeastOne {
    type Output = u32;
    const WHAT: &'static str = "a whole number from 1";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<u32, D::Error> {
        d.deserialize_any(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, AtLeastOne> {
    type Value = u32;
    expecting!();
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
        match u32::try_from(v) {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(self
                .0
                .refuse(format!("must be a whole number from 1 to {}, not {v}", u32::MAX))),
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u32, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(self
                .0
                .refuse(format!("must be a whole number from 1 to {}, not {v}", u32::MAX))),
        }
    }
}
