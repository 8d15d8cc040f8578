//! The local AWS emulator, driven through `localstack/emulator.sh` so that the command line, the
//! test harness and a developer at a shell all start and stop it the same way.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use thiserror::Error;

/// The port LocalStack listens on, used for the emulator unless told otherwise.
pub const DEFAULT_PORT: u16 = 4566;

/// Why the emulator could not be started or stopped.
#[derive(Debug, Error)]
pub enum EmulatorError {
    /// The script could not be run at all.
    #[error("cannot run {script}: {source}")]
    Spawn {
        /// The script's path.
        script: String,
        /// Why.
        source: std::io::Error,
    },
    /// The script ran and failed; its standard error says why.
    #[error("{script} {command} failed: {stderr}")]
    Failed {
        /// The script's path.
        script: String,
        /// The command given to it.
        command: String,
        /// What it printed on standard error.
        stderr: String,
    },
    /// No free port could be found.
    #[error("no free local port: {0}")]
    NoFreePort(std::io::Error),
}

/// A running emulator.
#[derive(Debug, Clone)]
pub struct Emulator {
    endpoint: String,
    port: Option<u16>,
}

impl Emulator {
    /// Starts the bundled emulator on `port` and waits until it answers. With `owner_pid`, the
    /// emulator stops by itself when that process ends.
    pub fn start(port: u16, owner_pid: Option<u32>) -> Result<Self, EmulatorError> {
        let mut args = vec!["start".to_owned(), "--port".to_owned(), port.to_string()];
        if let Some(pid) = owner_pid {
            args.extend(["--owner-pid".to_owned(), pid.to_string()]);
        }
        let endpoint = run_script(&args)?;
        Ok(Self {
            endpoint,
            port: Some(port),
        })
    }

    /// An emulator someone else runs at `endpoint`; [`Emulator::stop`] leaves it alone.
    pub fn existing(endpoint: &str) -> Self {
        Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            port: None,
        }
    }

    /// The emulator for a test run: the one named by `AWS_ENDPOINT_URL` if set, otherwise a new
    /// one on a free port that ends with this process.
    pub fn for_this_process() -> Result<Self, EmulatorError> {
        if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL")
            && !endpoint.trim().is_empty()
        {
            return Ok(Self::existing(&endpoint));
        }
        // A port found free can be taken before the emulator binds it; try a few.
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port().map_err(EmulatorError::NoFreePort)?;
            match Self::start(port, Some(std::process::id())) {
                Ok(emulator) => return Ok(emulator),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            EmulatorError::NoFreePort(std::io::Error::other("no attempt was made"))
        }))
    }

    /// The endpoint URL, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether this handle started the emulator (and so may stop it).
    pub fn started_here(&self) -> bool {
        self.port.is_some()
    }

    /// Stops the emulator if this handle started it.
    pub fn stop(&self) -> Result<(), EmulatorError> {
        self.port.map_or(Ok(()), run_stop)
    }
}

/// Whether something accepts connections on `127.0.0.1:port`.
pub fn answers_on(port: u16) -> bool {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_ok()
}

/// A port that is free on the loopback interface right now.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// The script: `LAMBDAUTH_EMULATOR_SCRIPT` if set, otherwise the one in this checkout.
pub fn script_path() -> PathBuf {
    std::env::var_os("LAMBDAUTH_EMULATOR_SCRIPT").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../localstack/emulator.sh"),
        PathBuf::from,
    )
}

/// Stops the emulator started on `port` by the script, by its pid.
pub fn run_stop(port: u16) -> Result<(), EmulatorError> {
    run_script(&["stop".to_owned(), "--port".to_owned(), port.to_string()]).map(|_| ())
}

fn run_script(args: &[String]) -> Result<String, EmulatorError> {
    let script = script_path();
    let output = Command::new("bash")
        .arg(&script)
        .args(args)
        .output()
        .map_err(|source| EmulatorError::Spawn {
            script: script.display().to_string(),
            source,
        })?;
    if !output.status.success() {
        return Err(EmulatorError::Failed {
            script: script.display().to_string(),
            command: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The region every emulator client uses: the environment's (`AWS_REGION`, then
/// `AWS_DEFAULT_REGION`) where it names one, otherwise `us-east-1`.
pub fn region() -> String {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.trim().is_empty())
        .unwrap_or_else(|| "us-east-1".to_owned())
}

/// SDK settings that reach the emulator at `endpoint`: the [`region`], and the environment's
/// credentials where it has them, otherwise throw-away keys (an emulator accepts any). The one
/// place the command line, the tests and the benchmarks build them.
///
/// The endpoint counts as if `AWS_ENDPOINT_URL` had set it, so that every
/// `AWS_ENDPOINT_URL_<SERVICE>` still overrides it for its service, exactly as for the deployed
/// functions (an endpoint set in code would silence them).
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region()));
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() && std::env::var_os("AWS_PROFILE").is_none()
    {
        loader = loader.credentials_provider(aws_credential_types::Credentials::new(
            "test",
            "test",
            None,
            None,
            "lambdauth-local",
        ));
    }
    let mut config = loader.load().await.to_builder();
    config.insert_origin(
        "endpoint_url",
        aws_types::origin::Origin::shared_environment_variable(),
    );
    config.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_endpoint_is_never_stopped() {
        let emulator = Emulator::existing("http://127.0.0.1:1/");
        assert_eq!(emulator.endpoint(), "http://127.0.0.1:1");
        assert!(!emulator.started_here());
        assert!(emulator.stop().is_ok());
    }

    #[test]
    fn a_free_port_is_not_answering() {
        let port = free_port().unwrap();
        assert!(!answers_on(port));
    }

    #[test]
    fn the_script_is_found_in_the_checkout() {
        assert!(script_path().is_file(), "{}", script_path().display());
    }
}
