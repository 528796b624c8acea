//! Trail ARNs, parsed the way the AWS CLI accepts them.

/// The parts of `arn:<partition>:cloudtrail:<region>:<account>:trail/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailArn {
    pub arn: String,
    pub partition: String,
    /// The trail's home region.
    pub region: String,
    pub account: String,
    pub name: String,
}

/// The AWS CLI's message, kept verbatim because scripts match it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid trail ARN provided: {0}")]
pub struct ArnError(pub String);

impl TrailArn {
    pub fn parse(arn: &str) -> Result<TrailArn, ArnError> {
        let err = || ArnError(arn.to_string());
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" || parts[1].is_empty() || parts[2] != "cloudtrail"
        {
            return Err(err());
        }
        let (region, account, resource) = (parts[3], parts[4], parts[5]);
        if region.is_empty() || account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        let rest = resource.strip_prefix("trail/").ok_or_else(err)?;
        let name = rest.rsplit('/').next().unwrap_or(rest);
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(err());
        }
        Ok(TrailArn {
            arn: arn.to_string(),
            partition: parts[1].to_string(),
            region: region.to_string(),
            account: account.to_string(),
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_cli_examples() {
        let a = TrailArn::parse("arn:aws:cloudtrail:us-east-1:123456789012:trail/foo").unwrap();
        assert_eq!(
            (a.region.as_str(), a.account.as_str(), a.name.as_str()),
            ("us-east-1", "123456789012", "foo")
        );
        let a = TrailArn::parse("arn:aws-cn:cloudtrail:cn-north-1:123456789012:trail/my_trail.v2")
            .unwrap();
        assert_eq!(a.name, "my_trail.v2");
    }

    #[test]
    fn rejects_what_the_cli_rejects() {
        for bad in [
            "foo:bar:baz",
            "arn:aws:cloudtrail:us-east-1:123456789012:foo",
            "arn:aws:s3:us-east-1:123456789012:trail/foo",
            "arn:aws:cloudtrail:us-east-1:1234:trail/foo",
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/",
            "",
        ] {
            let e = TrailArn::parse(bad).unwrap_err();
            assert_eq!(e.to_string(), format!("Invalid trail ARN provided: {bad}"));
        }
    }
}
