//! Where settings come from: the process environment, or a fixed list (tests). Every name a
//! settings reader asks for is recorded, so a test can compare what the binaries read with
//! what README.md documents.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::Duration;

use anyhow::bail;

/// A source of settings variables. Values are trimmed; an empty value is the same as unset.
pub struct Env {
    vars: Vec<(String, String)>,
    read: RefCell<BTreeSet<String>>,
}

impl Env {
    /// The process environment, as it is now.
    pub fn process() -> Self {
        Self::from_pairs(std::env::vars())
    }

    /// Exactly these variables.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let vars = pairs.into_iter().map(|(k, v)| (k.into(), v.into().trim().to_owned())).filter(|(_, v)| !v.is_empty()).collect();
        Env { vars, read: RefCell::default() }
    }

    /// The value of `name`, if set and not blank.
    pub fn get(&self, name: &str) -> Option<String> {
        self.read.borrow_mut().insert(name.to_owned());
        self.vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    /// `name` parsed as `T`; a value that does not parse is an error naming the variable.
    pub fn parse<T: FromStr>(&self, name: &str) -> anyhow::Result<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        self.get(name).map(|v| v.parse::<T>().map_err(|e| anyhow::anyhow!("{name}={v:?}: {e}"))).transpose()
    }

    /// `name` as a boolean (`1/true/yes/on`, `0/false/no/off`, any case).
    pub fn flag(&self, name: &str) -> anyhow::Result<Option<bool>> {
        Ok(match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => None,
            Some("1" | "true" | "yes" | "on") => Some(true),
            Some("0" | "false" | "no" | "off") => Some(false),
            Some(other) => bail!("{name}={other:?}: expected true or false"),
        })
    }

    /// `name` as whole seconds within `min..=max`.
    pub fn secs(&self, name: &str, min: u64, max: u64) -> anyhow::Result<Option<Duration>> {
        match self.parse::<u64>(name)? {
            Some(s) if s < min || s > max => bail!("{name} must be between {min} and {max}"),
            s => Ok(s.map(Duration::from_secs)),
        }
    }

    /// Every variable whose name starts with `prefix`, the prefix removed, in name order
    /// (recorded as `prefix*`).
    pub fn with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.read.borrow_mut().insert(format!("{prefix}*"));
        let mut found: Vec<(String, String)> =
            self.vars.iter().filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_owned(), v.clone()))).collect();
        found.sort();
        found
    }

    /// The names asked for so far.
    pub fn names_read(&self) -> BTreeSet<String> {
        self.read.borrow().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_unset_and_bad_values_name_the_variable() {
        let env = Env::from_pairs([("A", "  "), ("B", " 7 "), ("C", "seven"), ("D", "Yes")]);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.parse::<u32>("B").ok().flatten(), Some(7));
        let err = env.parse::<u32>("C").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("C=\"seven\""), "{err}");
        assert_eq!(env.flag("D").ok().flatten(), Some(true));
        assert!(env.secs("B", 10, 20).is_err());
        assert_eq!(env.names_read().into_iter().collect::<Vec<_>>(), ["A", "B", "C", "D"]);
    }
}
