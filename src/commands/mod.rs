//! The commands: one short file each, turning the parsed command line
//! into a request and calling the layers below (plan, run, report sinks).
//! Every failure of a command as a whole becomes one sentence and exit
//! status 2.

pub mod acquire;
mod deliver;
pub mod keys;
pub mod merge;
pub mod simulate;
pub mod validate;
pub mod verify_signature;

use crate::cli::{Cli, Command};

/// Exit status for usage and operational errors: the run was not done.
pub(crate) const EXIT_ERROR: i32 = crate::verify::model::Verdict::NotRun.exit_code();

/// A failure of the run as a whole, worded for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// What the user asked for cannot be done as asked.
    #[error("{0}")]
    Usage(String),
    /// AWS, the network or the file system refused.
    #[error("{0}")]
    Operational(String),
}

pub(crate) fn usage(e: impl std::fmt::Display) -> CommandError {
    CommandError::Usage(e.to_string())
}

pub(crate) fn operational(e: impl std::fmt::Display) -> CommandError {
    CommandError::Operational(e.to_string())
}

impl From<crate::request::RequestError> for CommandError {
    fn from(e: crate::request::RequestError) -> Self {
        match e {
            crate::request::RequestError::Usage(s) => CommandError::Usage(s),
            crate::request::RequestError::Unreadable(s) => CommandError::Operational(s),
        }
    }
}

impl From<crate::plan::connect::ConnectError> for CommandError {
    fn from(e: crate::plan::connect::ConnectError) -> Self {
        match e {
            crate::plan::connect::ConnectError::Usage(s) => CommandError::Usage(s),
            crate::plan::connect::ConnectError::Unavailable(s) => CommandError::Operational(s),
        }
    }
}

impl From<crate::plan::build::PlanError> for CommandError {
    fn from(e: crate::plan::build::PlanError) -> Self {
        match e {
            crate::plan::build::PlanError::Usage(s) => CommandError::Usage(s),
            crate::plan::build::PlanError::Unavailable(s) => CommandError::Operational(s),
        }
    }
}

impl From<crate::report::checkpoint_file::CheckpointFileError> for CommandError {
    fn from(e: crate::report::checkpoint_file::CheckpointFileError) -> Self {
        match e {
            crate::report::checkpoint_file::CheckpointFileError::Unusable(s) => {
                CommandError::Usage(s)
            }
            crate::report::checkpoint_file::CheckpointFileError::Io(s) => {
                CommandError::Operational(s)
            }
        }
    }
}

impl From<crate::run::RunError> for CommandError {
    fn from(e: crate::run::RunError) -> Self {
        operational(e)
    }
}

impl From<crate::report::sinks::SinkError> for CommandError {
    fn from(e: crate::report::sinks::SinkError) -> Self {
        operational(e)
    }
}

/// Runs a parsed command line and returns the process exit status.
pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Validate(args) => {
            crate::run::kernel_hints::apply();
            runtime().and_then(|rt| rt.block_on(validate::run(args)))
        }
        Command::Simulate(args) => simulate::run(args),
        Command::Keys(args) => runtime().and_then(|rt| rt.block_on(keys::run(args))),
        Command::Merge(args) => runtime().and_then(|rt| rt.block_on(merge::run(args))),
        Command::Acquire(cmd) => runtime().and_then(|rt| rt.block_on(acquire::run(cmd))),
        Command::VerifySignature(args) => verify_signature::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::report::say(format_args!("{e}"));
            EXIT_ERROR
        }
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| operational(format!("cannot start the async runtime: {e}")))
}
