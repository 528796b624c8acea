//! `acquire`'s draft certification (`CERTIFICATION-DRAFT.md`): the facts
//! the run recorded (tool and build, who, where, when, the command, the
//! window, the verdict, the seal's hashes) in the shape FRE 902(13)/(14)
//! certifications take, for a qualified person to review and sign. A
//! draft, said so at its top: the tool cannot attest to a process it only
//! ran.

use serde::Serialize;

pub use crate::sources::evidence::CERTIFICATION_FILE as FILE;
const TEMPLATE: &str = include_str!("templates/CERTIFICATION-DRAFT.md");

/// What the draft states.
#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    pub version: String,
    pub time: String,
    pub trail_arn: String,
    pub bucket: String,
    pub caller: Option<String>,
    pub host: Option<String>,
    /// The SHA-256 of the program file that ran (its build).
    pub binary_sha256: String,
    pub platform: String,
    pub command: String,
    pub window: String,
    pub verdict: String,
    pub files: usize,
    pub sums_sha256: String,
    pub manifest_sha256: String,
    pub signer: Option<String>,
    pub tsa: Option<String>,
}

/// The draft's text.
pub fn render(facts: &Facts) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.set_keep_trailing_newline(true);
    env.add_template("certification", TEMPLATE)?;
    env.get_template("certification")?.render(facts)
}

/// The command line as a shell would take it back: words with spaces or
/// quotes in single quotes.
pub fn command_line(words: &[String]) -> String {
    let quote = |w: &String| {
        let plain = !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
        // A line break in a word would end the draft's code block.
        let w: String = w
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        match plain {
            true => w,
            false => format!("'{}'", w.replace('\'', r"'\''")),
        }
    };
    words.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// The SHA-256 of the running program, or why not.
pub fn binary_sha256() -> String {
    std::env::current_exe()
        .and_then(std::fs::read)
        .map(|b| crate::verify::digest::sha256_hex(&b))
        .unwrap_or_else(|e| format!("[unknown: {e}]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draft_says_it_is_a_draft_and_states_the_hashes() {
        let facts = Facts {
            version: "0.1.0".into(),
            time: "2026-03-09T00:00:00Z".into(),
            trail_arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/t".into(),
            bucket: "b".into(),
            caller: Some("arn:aws:iam::111122223333:user/a".into()),
            host: None,
            binary_sha256: "ab".repeat(32),
            platform: "linux x86_64".into(),
            command: command_line(&["trailproof".into(), "a b".into(), "it's".into()]),
            window: "2026-03-01T00:00:00Z to 2026-03-08T00:00:00Z".into(),
            verdict: "Verdict: proven intact (exit 0)".into(),
            files: 12,
            sums_sha256: "cd".repeat(32),
            manifest_sha256: "ef".repeat(32),
            signer: None,
            tsa: Some("https://tsa.example".into()),
        };
        let text = render(&facts).unwrap();
        assert!(text.starts_with("# DRAFT"), "{text}");
        assert!(text.contains(&"cd".repeat(32)) && text.contains(&"ef".repeat(32)));
        assert!(text.contains("trailproof 'a b' 'it'\\''s'"), "{text}");
        assert!(text.contains("time-stamped") && !text.contains("signed (`FILE.sig`)"));
        assert!(
            text.contains("`arn:aws:iam::111122223333:user/a`"),
            "{text}"
        );
    }
}
