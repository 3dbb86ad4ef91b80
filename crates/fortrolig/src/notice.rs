//! `fortrolig notice check`: lets a clinic try the wording of its notices (N1, N2, N7).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use fortrolig_notice_check::{Channel, Checker, ClinicRules, Replies};

use crate::cli::NoticeCommand;
use crate::commands::{CliError, parse_org};
use crate::system::{Create, open_args};

pub async fn run(command: NoticeCommand) -> Result<ExitCode, CliError> {
    match command {
        NoticeCommand::Bounce { storage } => bounce(&storage).await,
        check => run_check(check).await,
    }
}

/// `fortrolig notice bounce`: one returned e-mail from standard input.
async fn bounce(storage: &crate::cli::StorageArgs) -> Result<ExitCode, CliError> {
    use std::io::Read;
    // sysexits EX_TEMPFAIL: the mail system keeps the message and tries again.
    const TRY_AGAIN: u8 = 75;
    let mut message = Vec::new();
    std::io::stdin()
        .take(1 << 20)
        .read_to_end(&mut message)
        .map_err(|e| CliError::Io(format!("notice bounce: {e}")))?;
    let message = String::from_utf8_lossy(&message);
    let Ok(app) = open_args(storage, Create::Never).await else {
        eprintln!("notice bounce: the stores cannot be reached; try again later");
        return Ok(ExitCode::from(TRY_AGAIN));
    };
    let result = app.email_bounce(&message).await;
    app.close().await;
    match result {
        Ok(true) => println!("notice bounced"),
        Ok(false) => println!("nothing to record (delayed, unknown or already final)"),
        Err(fortrolig_service::ServiceError::Invalid(why)) => eprintln!("notice bounce: {why}"),
        Err(e) if e.is_unavailable() => {
            eprintln!("notice bounce: {e}; try again later");
            return Ok(ExitCode::from(TRY_AGAIN));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_check(command: NoticeCommand) -> Result<ExitCode, CliError> {
    let NoticeCommand::Check {
        channel,
        replies_allowed,
        sender_phone,
        department,
        portal_host,
        clinic,
        data,
        database_url,
    } = command
    else {
        return Err(CliError::Usage("notice: unknown command".into()));
    };
    let channel = match channel.as_str() {
        "sms" => Channel::Sms,
        _ => Channel::Email,
    };
    let replies = if replies_allowed {
        Replies::Allowed
    } else {
        Replies::NotPossible
    };
    // A clinic's own phone numbers and department names, as its administrator set them,
    // then what the command line adds.
    let mut rules = match (clinic, data) {
        (Some(clinic), Some(data)) => {
            let org = parse_org(&clinic)?;
            let storage = crate::cli::StorageArgs {
                data,
                database_url,
                vault: None,
            };
            let app = open_args(&storage, Create::Never).await?;
            let rules = match app.clinic(&org).await {
                Ok(clinic) => clinic.notice_rules().await,
                Err(e) => Err(e),
            };
            app.close().await;
            rules?
        }
        _ => ClinicRules::default(),
    };
    rules.sender_phones.extend(sender_phone);
    rules.extra_department_terms.extend(department);
    rules.portal_hosts.extend(portal_host);
    let checker = Checker::new(rules).map_err(|e| CliError::Usage(format!("notice check: {e}")))?;

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
