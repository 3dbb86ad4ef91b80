//! `fortrolig notice check`: lets a clinic try the wording of its notices (N1, N2, N7).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use fortrolig_notice_check::{Channel, Checker, ClinicRules, Replies};

use crate::cli::NoticeCommand;
use crate::commands::{CliError, parse_org};

pub fn run(command: NoticeCommand) -> Result<ExitCode, CliError> {
    let NoticeCommand::Check {
        channel,
        replies_allowed,
        sender_phone,
        department,
        portal_host,
        clinic,
        data: _,
    } = command;
    if let Some(clinic) = clinic {
        parse_org(&clinic)?;
        return Err(CliError::Usage(
            "--clinic: a clinic's stored notice settings (its own department terms and sender \
             numbers) do not exist yet; they come with the notice templates. Until then pass \
             --sender-phone and --department"
                .to_owned(),
        ));
    }
    let channel = match channel.as_str() {
        "sms" => Channel::Sms,
        _ => Channel::Email,
    };
    let replies = if replies_allowed {
        Replies::Allowed
    } else {
        Replies::NotPossible
    };
    let checker = Checker::new(ClinicRules {
        sender_phones: sender_phone,
        extra_department_terms: department,
        portal_hosts: portal_host,
    })
    .map_err(|e| CliError::Usage(format!("notice check: {e}")))?;

    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut all_allowed = true;
    let io = |e: std::io::Error| CliError::Io(format!("notice check: {e}"));
    for line in stdin.split(b'\n') {
        let line = line.map_err(io)?;
        let line = String::from_utf8_lossy(&line);
        let text = line.strip_suffix('\r').unwrap_or(&line);
        let verdict = checker.check(text, channel, replies);
        all_allowed &= verdict.is_allowed();
        serde_json::to_writer(&mut out, &verdict)
            .map_err(|e| CliError::Io(format!("notice check: {e}")))?;
        out.write_all(b"\n").map_err(io)?;
    }
    out.flush().map_err(io)?;
    Ok(if all_allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
