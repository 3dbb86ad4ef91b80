//! The server loop: plain HTTP on loopback, or TLS 1.2/1.3 through rustls.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use fortrolig_service::Fortrolig;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;

use crate::router::{AppState, router};

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Certificate chain and private key, PEM.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Users reach the server over https even though it serves plain HTTP (on loopback,
    /// behind a TLS-terminating proxy): cookies are `Secure` then too.
    pub public_https: bool,
    /// Patient login through ID-porten, when configured.
    pub idporten: Option<Arc<crate::login::LoginFlow>>,
    /// Staff login through HelseID, when configured.
    pub helseid: Option<Arc<crate::login::LoginFlow>>,
    /// Passkeys, when the public address can be a WebAuthn relying party.
    pub passkeys: Option<Arc<crate::passkeys::PasskeyFlow>>,
    /// The demo's marked test login (only `fortrolig demo` sets this).
    pub demo_login: bool,
    /// The secret path segment the SMS provider posts delivery reports to.
    pub delivery_report_token: Option<String>,
    /// How this installation is set up, for the clinic's record of processing (C3).
    pub processing: fortrolig_domain::processing::Setup,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("refusing plain HTTP on {0}: configure a TLS certificate, or listen on loopback")]
    PlainOutsideLoopback(SocketAddr),
    #[error("TLS certificate or key {path}: {message}")]
    Tls { path: String, message: String },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

fn tls_error(path: &std::path::Path, message: impl ToString) -> ServerError {
    ServerError::Tls {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<rustls::ServerConfig, ServerError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| tls_error(cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| tls_error(cert, e))?;
    if certs.is_empty() {
        return Err(tls_error(cert, "no certificate found in the PEM file"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| tls_error(key, e))?;
    // rustls speaks only TLS 1.2 and 1.3, with modern cipher suites (X1).
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
    .map_err(|e| tls_error(cert, e))?
    .with_no_client_auth()
    .with_single_cert(certs, key_der)
    .map_err(|e| tls_error(key, e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

async fn shutdown_signal() {
    crate::live::shutdown().await;
    tracing::info!("shutting down: finishing requests in flight");
}

/// Cookies are `Secure` (sent over https only) unless the server is reached over plain
/// HTTP itself, which it allows on loopback only (a test or the demo on this machine).
fn secure_cookies(tls: bool, public_https: bool) -> bool {
    tls || public_https
}

/// Runs until SIGTERM or Ctrl-C, then drains requests in flight.
pub async fn serve(app: Fortrolig, settings: ServerSettings) -> Result<(), ServerError> {
    let tls = match &settings.tls {
        Some((cert, key)) => Some(tls_config(cert, key)?),
        None if !settings.listen.ip().is_loopback() => {
            return Err(ServerError::PlainOutsideLoopback(settings.listen));
        }
        None => None,
    };
    let listener =
        TcpListener::bind(settings.listen)
            .await
            .map_err(|source| ServerError::Bind {
                addr: settings.listen,
                source,
            })?;
    let local = listener.local_addr()?;
    let routes = router(
        AppState {
            app,
            idporten: settings.idporten.clone(),
            passkeys: settings.passkeys.clone(),
            helseid: settings.helseid.clone(),
            secure_cookies: secure_cookies(tls.is_some(), settings.public_https),
            demo_login: settings.demo_login,
            delivery_report_token: settings.delivery_report_token.clone(),
            processing: Arc::new(settings.processing.clone()),
            drafts: Arc::default(),
        },
        tls.is_some(),
    );
    match tls {
        None => {
            tracing::info!(address = %local, "listening (HTTP, loopback only)");
            axum::serve(
                listener,
                routes.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        }
        Some(config) => {
            tracing::info!(address = %local, "listening (HTTPS, TLS 1.2/1.3)");
            serve_tls(listener, routes, config).await;
        }
    }
    Ok(())
}

async fn serve_tls(listener: TcpListener, routes: Router, config: rustls::ServerConfig) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        // The peer address, for the audit log's source of each act.
        let service = TowerToHyperService::new(
            routes
                .clone()
                .layer(axum::Extension(axum::extract::ConnectInfo(peer))),
        );
        let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls_stream = match acceptor.accept(stream).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(peer = %peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls_stream), service);
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{clear_cookie, session_cookie};

    #[test]
    fn cookies_are_secure_except_over_plain_http_on_loopback_s4() {
        // Plain HTTP on loopback with no https address anywhere: a test or the demo.
        assert!(!secure_cookies(false, false));
        // Under TLS, or behind a TLS proxy (the providers send users to https).
        assert!(secure_cookies(true, false));
        assert!(secure_cookies(false, true));
        for cookie in [
            session_cookie("fortrolig_okt", "v", true),
            clear_cookie("fortrolig_okt", true),
        ] {
            assert!(
                cookie.contains("HttpOnly")
                    && cookie.contains("SameSite=Strict")
                    && cookie.ends_with("; Secure"),
                "{cookie}"
            );
        }
        assert!(!session_cookie("fortrolig_okt", "v", false).contains("Secure"));
    }
}
