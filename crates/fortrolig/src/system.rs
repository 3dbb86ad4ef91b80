//! Opening the system from configuration or command-line storage arguments.

use std::collections::BTreeMap;
use std::sync::Arc;

use fortrolig_service::{Backend, Fortrolig, SystemClock};
use fortrolig_vault::MasterKey;

use crate::cli::StorageArgs;
use crate::commands::CliError;
use crate::config::{Config, Secret};

/// Whether a missing store and master key may be created, or must already exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    IfMissing,
    Never,
}

pub fn env() -> BTreeMap<String, String> {
    std::env::vars().collect()
}

/// The configuration a storage-only command runs with: environment, then its arguments.
pub fn config_for(args: &StorageArgs) -> Result<Config, CliError> {
    let mut config = Config::load(None, &env())?;
    config.data_dir = args.data.clone();
    config.vault_dir = args
        .vault
        .clone()
        .unwrap_or_else(|| args.data.join("vault"));
    if std::env::var_os("FORTROLIG_MASTER_KEY_FILE").is_none() {
        config.master_key_file = config.vault_dir.join("master.key");
    }
    if let Some(url) = &args.database_url {
        config.database_url = Some(Secret::new(url.clone()));
    }
    Ok(config)
}

pub async fn open(config: &Config, create: Create) -> Result<Fortrolig, CliError> {
    let master = match &config.master_key {
        Some(secret) => MasterKey::from_hex(secret.expose())?,
        None => {
            if create == Create::Never && !config.master_key_file.exists() {
                return Err(CliError::Usage(format!(
                    "no master key at {}: is --data (or --vault) right? Nothing has been set up there yet",
                    config.master_key_file.display()
                )));
            }
            MasterKey::load_or_create(&config.master_key_file)?
        }
    };
    let backend = match &config.database_url {
        Some(url) => Backend::Postgres {
            url: url.expose().to_owned(),
        },
        None => {
            if create == Create::Never && !config.data_dir.join("directory.db").exists() {
                return Err(CliError::Usage(format!(
                    "no Fortrolig data in {}: is --data right?",
                    config.data_dir.display()
                )));
            }
            Backend::Sqlite {
                data_dir: config.data_dir.clone(),
                vault_dir: config.vault_dir.clone(),
            }
        }
    };
    Ok(Fortrolig::open(backend, master, Arc::new(SystemClock)).await?)
}

pub async fn open_args(args: &StorageArgs, create: Create) -> Result<Fortrolig, CliError> {
    open(&config_for(args)?, create).await
}
