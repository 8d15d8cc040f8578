//! What a function is: one type per function says its name, its configuration, how it is built
//! and how it handles an event; an HTTP function adds its routes, whether the JWT authorizer
//! guards them, and the per-source limit class it draws from. A [`Definition`] is that type seen
//! as a value, so that the registry of every function (the one Lambda binary, the dev server,
//! the tests, the template checks) is a list of values.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use lambdauth_domain::{Clock, RouteClass, SystemClock, Timestamp};
use serde_json::Value;

use crate::api::envelope;
use crate::api::{BoxError, Outcome, Request};
use crate::config::{ConfigError, Configuration, RateLimitConfig, Source, TableConfig};
use crate::limits::Limiter;

/// The path of the OpenID configuration, under the issuer URL.
pub const OPENID_CONFIGURATION_PATH: &str = "/.well-known/openid-configuration";
/// The path of the key set, under the issuer URL.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// An HTTP route: a method and a path (API Gateway's route key without the space).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    /// `GET`, `POST` or `DELETE`.
    pub method: &'static str,
    /// The path, with `{name}` for a path parameter.
    pub path: &'static str,
    /// Whether API Gateway's JWT authorizer checks the caller's access token first.
    pub authorized: bool,
}

impl Route {
    /// A `POST` route without the authorizer.
    pub const fn post(path: &'static str) -> Self {
        Self {
            method: "POST",
            path,
            authorized: false,
        }
    }

    /// A `GET` route without the authorizer.
    pub const fn get(path: &'static str) -> Self {
        Self {
            method: "GET",
            path,
            authorized: false,
        }
    }

    /// A route API Gateway's JWT authorizer guards.
    pub const fn behind_authorizer(method: &'static str, path: &'static str) -> Self {
        Self {
            method,
            path,
            authorized: true,
        }
    }

    /// API Gateway's route key, `METHOD /path`.
    pub fn key(self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Why a function could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A variable is missing or malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The configuration was read but cannot be put to use (a hashing cost the hasher refuses,
    /// a template that does not compile).
    #[error("{what}")]
    Unusable {
        /// What could not be set up.
        what: &'static str,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StartError {
    /// `what` could not be set up because of `source`.
    pub fn unusable(
        what: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Unusable {
            what,
            source: Box::new(source),
        }
    }
}

/// What every function is built from besides its configuration: the SDK's settings and the
/// clock. Only a Lambda `main` picks the system clock; a test sets the time.
#[derive(Clone)]
pub struct Context {
    /// The SDK's settings (region, credentials, endpoints), shared by every client built here.
    pub aws: aws_config::SdkConfig,
    /// Where every rule reads the time.
    pub clock: Arc<dyn Clock + Send + Sync>,
    dynamodb: Arc<std::sync::OnceLock<aws_sdk_dynamodb::Client>>,
}

impl Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

impl Context {
    /// A context over `aws` reading the system clock.
    pub fn new(aws: aws_config::SdkConfig) -> Self {
        Self::with_clock(aws, Arc::new(SystemClock))
    }

    /// A context over `aws` reading `clock`.
    pub fn with_clock(aws: aws_config::SdkConfig, clock: Arc<dyn Clock + Send + Sync>) -> Self {
        Self {
            aws,
            clock,
            dynamodb: Arc::default(),
        }
    }

    /// Now, as the clock says.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The DynamoDB client, one per context: the store and the limiter of a function share its
    /// connection pool, so a request's bucket write reuses the connection its reads opened.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        self.dynamodb
            .get_or_init(|| aws_sdk_dynamodb::Client::new(&self.aws))
            .clone()
    }
}

/// A function: its name, its configuration and how it is built.
pub trait Function: Sized + Send + Sync + 'static {
    /// The function's name (the original's, e.g. `LambdAuthLogin`): its handler in the template,
    /// its log's `operation`.
    const NAME: &'static str;
    /// The variables it reads.
    type Config: Configuration;

    /// The function over `config`, its clients built from `context`.
    fn build(config: Self::Config, context: &Context) -> Result<Self, StartError>;

    /// The function configured from `source`, its clients built from `context`.
    fn start(context: &Context, source: &(impl Source + ?Sized)) -> Result<Self, StartError> {
        Self::build(Self::Config::from_source(source)?, context)
    }
}

/// A function that answers HTTP routes (and a direct invoke with the same JSON).
pub trait HttpFunction: Function {
    /// The routes it answers.
    const ROUTES: &'static [Route];
    /// The class of per-source bucket its HTTP requests draw from before their body is parsed;
    /// `None` for a function that must never be refused for a stranger's traffic.
    const LIMIT: Option<RouteClass>;

    /// Answers one request.
    fn handle(&self, request: Request) -> impl Future<Output = Outcome> + Send;
}

/// A function fed by an event source (a stream, a queue, a topic).
pub trait EventFunction: Function {
    /// Handles one event: `Err` asks Lambda to deliver it again.
    fn handle_event(&self, event: Value) -> impl Future<Output = Result<Value, BoxError>> + Send;
}

/// A future on the heap: a [`Handler`] is called through a pointer.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A built function, whatever its kind: what the Lambda event loop and the dev server call.
pub trait Handler: Send + Sync {
    /// Handles one Lambda event (an HTTP API event, a direct invoke, a stream or queue batch).
    fn handle<'a>(
        &'a self,
        event: Value,
        request_id: &'a str,
    ) -> BoxFuture<'a, Result<Value, BoxError>>;
}

/// An HTTP function with the limiter its definition asks for.
struct Http<F> {
    function: F,
    limiter: Option<Limiter>,
}

impl<F: HttpFunction> Handler for Http<F> {
    fn handle<'a>(
        &'a self,
        event: Value,
        request_id: &'a str,
    ) -> BoxFuture<'a, Result<Value, BoxError>> {
        Box::pin(async move {
            Ok(envelope::handle_event(
                F::NAME,
                self.limiter.as_ref(),
                event,
                request_id,
                |request| self.function.handle(request),
            )
            .await)
        })
    }
}

/// An event function as a handler.
struct Event<F>(F);

impl<F: EventFunction> Handler for Event<F> {
    fn handle<'a>(
        &'a self,
        event: Value,
        _request_id: &'a str,
    ) -> BoxFuture<'a, Result<Value, BoxError>> {
        Box::pin(self.0.handle_event(event))
    }
}

/// The limiter of an HTTP function in `class`: the rates and the users table it keeps the
/// buckets in.
fn limiter(
    class: RouteClass,
    context: &Context,
    source: &dyn Source,
) -> Result<Limiter, ConfigError> {
    let rates = RateLimitConfig::from_source(source)?;
    let table = TableConfig::from_source(source)?;
    Ok(Limiter::new(
        context.dynamodb(),
        &table.table_name,
        class,
        rates,
        Arc::clone(&context.clock),
    ))
}

fn start_http<F: HttpFunction>(
    context: &Context,
    source: &dyn Source,
) -> Result<Box<dyn Handler>, StartError> {
    let function = F::start(context, source)?;
    let limiter = F::LIMIT
        .map(|class| limiter(class, context, source))
        .transpose()?;
    Ok(Box::new(Http { function, limiter }))
}

fn start_event<F: EventFunction>(
    context: &Context,
    source: &dyn Source,
) -> Result<Box<dyn Handler>, StartError> {
    Ok(Box::new(Event(F::start(context, source)?)))
}

/// Everything `F` reads (its configuration, and its limiter's when it is limited), in its
/// `Debug` form: two loads agree when their forms do.
fn load_http<F: HttpFunction>(source: &dyn Source) -> Result<String, ConfigError> {
    let config = F::Config::from_source(source)?;
    match F::LIMIT {
        Some(_) => Ok(format!(
            "{config:?} {:?} {:?}",
            RateLimitConfig::from_source(source)?,
            TableConfig::from_source(source)?
        )),
        None => Ok(format!("{config:?}")),
    }
}

fn load_event<F: EventFunction>(source: &dyn Source) -> Result<String, ConfigError> {
    F::Config::from_source(source).map(|config| format!("{config:?}"))
}

/// The last segment of a type's path: `LoginConfig` for `lambdauth_accounts::…::LoginConfig`.
fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// A function as a value: what the registry lists.
#[derive(Clone, Copy)]
pub struct Definition {
    /// The function's name.
    pub name: &'static str,
    /// Its routes (none for an event function).
    pub routes: &'static [Route],
    /// The per-source limit class of its HTTP requests, if any.
    pub limit: Option<RouteClass>,
    config_type: fn() -> &'static str,
    load: fn(&dyn Source) -> Result<String, ConfigError>,
    start: StartFn,
}

/// How a definition builds its function.
type StartFn = fn(&Context, &dyn Source) -> Result<Box<dyn Handler>, StartError>;

impl Definition {
    /// The definition of the HTTP function `F`.
    pub const fn http<F: HttpFunction>() -> Self {
        Self {
            name: F::NAME,
            routes: F::ROUTES,
            limit: F::LIMIT,
            config_type: short_type_name::<F::Config>,
            load: load_http::<F>,
            start: start_http::<F>,
        }
    }

    /// The definition of the event function `F`.
    pub const fn event<F: EventFunction>() -> Self {
        Self {
            name: F::NAME,
            routes: &[],
            limit: None,
            config_type: short_type_name::<F::Config>,
            load: load_event::<F>,
            start: start_event::<F>,
        }
    }

    /// Whether it answers HTTP routes.
    pub fn is_http(&self) -> bool {
        !self.routes.is_empty()
    }

    /// The name of its configuration type (`LoginConfig`).
    pub fn config_type(&self) -> &'static str {
        (self.config_type)()
    }

    /// Loads everything it reads from `source`, in a form two loads can be compared by.
    pub fn load(&self, source: &dyn Source) -> Result<String, ConfigError> {
        (self.load)(source)
    }

    /// Builds it, configured from `source`, its clients from `context`.
    pub fn start(
        &self,
        context: &Context,
        source: &dyn Source,
    ) -> Result<Box<dyn Handler>, StartError> {
        (self.start)(context, source)
    }

    /// The path of its first route.
    pub fn path(&self) -> &'static str {
        self.routes.first().map_or("", |route| route.path)
    }
}

impl PartialEq for Definition {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Definition {}

impl std::hash::Hash for Definition {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl Debug for Definition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}
