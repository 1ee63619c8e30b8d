//! `KEY=VALUE` arguments (`--env`, `--label`) for clap.

/// Splits `KEY=VALUE` at the first `=`; the value may be empty or hold more `=`, the key may
/// not be empty. As a clap value parser, a bad item is a usage error (exit 2) that names it.
pub(crate) fn parse_key_value(item: &str) -> Result<(String, String), String> {
    item.split_once('=')
        .filter(|(key, _)| !key.is_empty())
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("`{item}` is not KEY=VALUE"))
}

/// `--env NAME=VALUE`: as [`parse_key_value`], and the name and value must be usable by a
/// program, checked (and worded) by the library as everywhere else.
pub(crate) fn parse_env(item: &str) -> Result<(String, String), String> {
    let (name, value) =
        item.split_once('=').ok_or_else(|| format!("`{item}` is not NAME=VALUE"))?;
    tend::process::check_env_name(name)?;
    tend::process::check_no_nul(value)?;
    Ok((name.to_owned(), value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_equals_and_needs_a_key() {
        assert_eq!(parse_key_value("A=x=y"), Ok(("A".to_owned(), "x=y".to_owned())));
        assert_eq!(parse_key_value("EMPTY="), Ok(("EMPTY".to_owned(), String::new())));
        assert!(parse_key_value("NOEQUALS").unwrap_err().contains("NOEQUALS"));
        assert!(parse_key_value("=v").unwrap_err().contains("`=v`"));
    }

    #[test]
    fn env_names_get_the_library_check() {
        assert_eq!(parse_env("A=x=y"), Ok(("A".to_owned(), "x=y".to_owned())));
        assert_eq!(parse_env("=v").unwrap_err(), tend::process::check_env_name("").unwrap_err());
        assert!(parse_env("NOEQUALS").unwrap_err().contains("`NOEQUALS`"));
    }
}
