//! Building the application from validated settings: the database, the adapters the
//! configuration picks region by region, the use cases, the background jobs, and the HTTP
//! server bound to its listener.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpServer};
use domain::ids::UserName;
use domain::ledger::NewRecharge;
use domain::ports::{
    Clock, IdempotencyStore, Identity, LedgerRepository, PlanCatalog, Provisioning, StoreHealth,
};
use domain::usecases::{Ports, UseCases};
use infra_http::{
    BuildError, ChargeRegion, ChargeService, PlanService, PlatformIdentity, PlatformProvisioning,
    PlatformRegion, WebhookSender,
};
use infra_mysql::{
    BooksStore, ChangeWriter, ConsumptionStore, Database, HealthStore, IdempotencyKeys,
    LedgerStore, NotificationStore, OrderStore, PaymentStore, QueueStats, RenewalStore,
    ResourceStore, StoreError, TaskStore, WebhookOutboxStore,
};

use crate::adapters::{
    ConfigIdentity, ConfigPlans, RandomIds, RegionalPlans, RegionalProvisioning, SystemClock,
};
use crate::config::{
    ChargingSource, DatabaseSettings, IdentitySettings, OpeningBalance, ProvisioningSource,
    Settings,
};
use crate::dto::json::json_config;
use crate::jobs::{
    DeliveryJob, RenewalJob, WebhookDispatcher, WebhookJob, DELIVERY_INTERVAL, WEBHOOK_INTERVAL,
};
use crate::logging::RequestLog;
use crate::routes::{self, path_config, query_config, API_PREFIX};
use crate::telemetry::{self, Backlog};

/// What every handler shares.
pub struct AppState {
    pub usecases: UseCases,
    pub health: Arc<dyn StoreHealth>,
    /// Where keyed requests and their answers are kept (see [`crate::idempotency`]).
    pub idempotency: Arc<dyn IdempotencyStore>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("platform client: {0}")]
    Platform(#[from] BuildError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot fund opening balance of {project}: {source}")]
    OpeningBalance {
        project: String,
        source: domain::Error,
    },
    #[error("server: {0}")]
    Server(#[from] std::io::Error),
}

/// Who the ledger names as the operator of opening balances.
const CONFIG_OPERATOR: &str = "config";

/// A built, bound, not yet running application.
pub struct Application {
    address: SocketAddr,
    server: Server,
    renewal_job: RenewalJob,
    delivery_job: DeliveryJob,
    /// `None` without webhooks.
    webhook_job: Option<WebhookJob>,
}

impl Application {
    /// Binds the listener (port 0 picks a free port), connects to the database, applies
    /// migrations (unless told not to), funds the configured opening balances (once per
    /// project, ever) and prints where it listens. The port comes first: a start that
    /// cannot listen (the port is taken) must leave the database as it found it.
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        // Before anything is measured (the pool's first connections are).
        telemetry::install();
        let bind = settings.server.bind;
        let listener =
            TcpListener::bind(bind).map_err(|source| StartupError::Bind { addr: bind, source })?;
        let address = listener.local_addr()?;
        // Connecting and migrating block, but nothing else runs on this thread yet.
        let database = connect(&settings.database)?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let ports = ports(&settings, &database, clock.clone())?;
        open_accounts(
            ports.ledger.as_ref(),
            ports.clock.as_ref(),
            &settings.opening_balances,
        )
        .await?;
        let idempotency = ports.idempotency.clone();
        let usecases = usecases(&settings, ports);
        let backlog = Backlog::new(QueueStats::new(database.clone()), clock.clone());
        let renewal_job =
            RenewalJob::new(usecases.clone(), settings.renewal_job).with_backlog(backlog.clone());
        let delivery_job = DeliveryJob::new(
            usecases.clone(),
            DELIVERY_INTERVAL,
            settings.payments.key_retention,
        )
        .with_backlog(backlog);
        let webhook_job = webhooks(&settings, &database, clock)?
            .map(|dispatcher| WebhookJob::new(dispatcher, WEBHOOK_INTERVAL));
        let state = web::Data::new(AppState {
            usecases,
            health: Arc::new(HealthStore::new(database)),
            idempotency,
        });

        let request_timeout = settings.server.request_timeout;
        let server = HttpServer::new(move || {
            routes::serve(
                App::new()
                    .app_data(state.clone())
                    .app_data(json_config())
                    .app_data(query_config())
                    .app_data(path_config())
                    .wrap(from_fn(move |req, next| {
                        crate::body_deadline::enforce(request_timeout, req, next)
                    }))
                    .wrap(from_fn(crate::request_limits::enforce))
                    // On every answer, errors included: nothing here is for a browser to
                    // sniff or for a cache to keep (balances and orders change, and are per
                    // user).
                    .wrap(
                        DefaultHeaders::new()
                            .add((
                                header::X_CONTENT_TYPE_OPTIONS,
                                HeaderValue::from_static("nosniff"),
                            ))
                            .add((header::CACHE_CONTROL, HeaderValue::from_static("no-store"))),
                    )
                    .wrap(from_fn(telemetry::record_request))
                    // Request id, X-Request-Id, one access line (never a header). Keep it the
                    // last `wrap`: actix runs the last one first, so the others log under the id.
                    .wrap(RequestLog),
            )
        })
        .client_request_timeout(request_timeout)
        .listen(listener)?
        .run();

        announce(address, &settings);
        Ok(Application {
            address,
            server,
            renewal_job,
            delivery_job,
            webhook_job,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until the process gets SIGINT or SIGTERM, then finishes running requests.
    /// The renewal, delivery and webhook jobs run beside the server and stop with it: a run
    /// in progress may finish (see [`crate::jobs::periodic`]).
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        let renewal = self.renewal_job.spawn();
        let delivery = self.delivery_job.spawn();
        let webhooks = self.webhook_job.map(WebhookJob::spawn);
        let served = self.server.await;
        if let Some(job) = renewal {
            job.stop().await;
        }
        delivery.stop().await;
        if let Some(job) = webhooks {
            job.stop().await;
        }
        Ok(served?)
    }
}

/// `serviceusage migrate`: applies migrations and returns, whatever
/// `MYSQL_CONFIG_DONT_UPGRADE_TABLES` says (asking for it is the point).
pub fn migrate(settings: &DatabaseSettings) -> Result<(), StartupError> {
    connect(&DatabaseSettings {
        migrate_at_start: true,
        ..settings.clone()
    })
    .map(drop)
}

/// The use cases on `ports` with the configured billing policy and settler.
pub fn usecases(settings: &Settings, ports: Ports) -> UseCases {
    UseCases::new(ports, settings.billing.clone(), settings.payments.settler)
}

/// The adapters the configuration picks, on `database` and the platform services of the
/// regions configured remote, reading the time from `clock`. The server and the one-shot
/// commands (`renew`, `deliver`, `reconcile`) all build their ports here, so a run from the
/// command line works exactly as the server's jobs do.
pub fn ports(
    settings: &Settings,
    database: &Database,
    clock: Arc<dyn Clock>,
) -> Result<Ports, StartupError> {
    let endpoints: Vec<String> = settings
        .webhooks
        .endpoints
        .iter()
        .map(|e| e.name.clone())
        .collect();
    let plan_service = plan_service(settings)?;
    let renewals = RenewalStore::new(database.clone(), endpoints.clone());
    let renewals = if settings.database.claim_locks {
        renewals
    } else {
        log::info!("renewal claims lock nothing (database.claim_locks = false)");
        renewals.without_claim_locks()
    };
    Ok(Ports {
        orders: Arc::new(OrderStore::new(database.clone())),
        changes: Arc::new(ChangeWriter::new(database.clone(), endpoints)),
        usages: Arc::new(ConsumptionStore::new(database.clone())),
        ledger: Arc::new(LedgerStore::new(database.clone())),
        renewals: Arc::new(renewals),
        payments: Arc::new(PaymentStore::new(database.clone())),
        notifications: Arc::new(NotificationStore::new(database.clone())),
        idempotency: Arc::new(IdempotencyKeys::new(database.clone())),
        books: Arc::new(BooksStore::new(database.clone())),
        plans: plans(settings, plan_service.clone()),
        identity: identity(settings)?,
        charging: Arc::new(charging(settings)?),
        provisioning: provisioning(settings, database, clock.clone(), plan_service)?,
        tasks: Arc::new(TaskStore::new(database.clone())),
        clock,
        ids: Arc::new(RandomIds),
    })
}

/// One client for the plan services of every region with remote plans (provisioning reads
/// plan sizes through it too); `None` when no region has remote plans.
fn plan_service(settings: &Settings) -> Result<Option<Arc<PlanService>>, StartupError> {
    let regions: Vec<_> = settings
        .regions
        .iter()
        .filter_map(|r| r.remote_plans().map(|url| (r.name.clone(), url.to_owned())))
        .collect();
    if regions.is_empty() {
        return Ok(None);
    }
    for (region, url) in &regions {
        log::info!("region {region}: plans from the plan service at {url}");
    }
    Ok(Some(Arc::new(PlanService::new(
        regions,
        settings.platform.http,
        settings.platform.plan_cache,
    )?)))
}

fn plans(settings: &Settings, plan_service: Option<Arc<PlanService>>) -> Arc<dyn PlanCatalog> {
    match plan_service {
        Some(remote) => Arc::new(RegionalPlans::new(
            settings.plans.clone(),
            remote,
            settings
                .regions
                .iter()
                .filter(|r| r.remote_plans().is_some())
                .map(|r| r.name.clone())
                .collect(),
        )),
        None => Arc::new(ConfigPlans::new(settings.plans.clone())),
    }
}

fn identity(settings: &Settings) -> Result<Arc<dyn Identity>, StartupError> {
    Ok(match &settings.identity {
        IdentitySettings::Config => {
            if settings.users.is_empty() {
                log::warn!(
                    "identity: no [[users]] configured, every token is refused (the demo's \
                     are in config/demo.toml)"
                );
            }
            Arc::new(ConfigIdentity::new(
                settings.users.clone(),
                settings.sub_accounts.clone(),
            ))
        }
        IdentitySettings::Platform { url, admins } => {
            log::info!(
                "identity: the platform at {url} ({} admin users; [[users]] and \
                 [[sub_accounts]] ignored: the platform's project labels say who is whose \
                 sub-account)",
                admins.len()
            );
            Arc::new(PlatformIdentity::new(
                url.clone(),
                admins.clone(),
                settings.platform.http,
                settings.platform.identity_cache,
            )?)
        }
    })
}

/// The charge service of every region with remote charging; with none, it keeps no region
/// and every region's money stays in the store's ledger.
fn charging(settings: &Settings) -> Result<ChargeService, StartupError> {
    let regions: Vec<_> = settings
        .regions
        .iter()
        .filter_map(|r| match &r.charging {
            ChargingSource::Remote { url, admin_token } => Some(ChargeRegion {
                region: r.name.clone(),
                base_url: url.clone(),
                admin_token: admin_token.clone(),
            }),
            ChargingSource::Ledger => None,
        })
        .collect();
    for region in &regions {
        log::info!(
            "region {}: balances kept by the charge service at {}",
            region.region,
            region.base_url
        );
    }
    Ok(ChargeService::new(regions, settings.platform.http)?)
}

/// Resources recorded in the database, but for the regions provisioned on the platform.
fn provisioning(
    settings: &Settings,
    database: &Database,
    clock: Arc<dyn Clock>,
    plan_service: Option<Arc<PlanService>>,
) -> Result<Arc<dyn Provisioning>, StartupError> {
    let embedded = Arc::new(ResourceStore::new(database.clone(), clock));
    let regions: Vec<_> = settings
        .regions
        .iter()
        .filter_map(|r| match &r.provisioning {
            ProvisioningSource::Remote {
                platform_url,
                volume_service,
                admin_token,
            } => Some(PlatformRegion {
                region: r.name.clone(),
                api_url: platform_url.clone(),
                volume_url: volume_service.clone(),
                admin_token: admin_token.clone(),
            }),
            ProvisioningSource::Embedded => None,
        })
        .collect();
    // Validation makes every remote-provisioning region a remote-plans one, so the plan
    // service exists whenever a region is provisioned on the platform.
    let Some(plan_service) = plan_service.filter(|_| !regions.is_empty()) else {
        return Ok(embedded);
    };
    for region in &regions {
        log::info!(
            "region {}: resources provisioned on the platform at {}",
            region.region,
            region.api_url
        );
    }
    let names = regions.iter().map(|r| r.region.clone()).collect();
    let remote = PlatformProvisioning::new(regions, plan_service, settings.platform.http)?;
    Ok(Arc::new(RegionalProvisioning::new(
        embedded,
        Arc::new(remote),
        names,
    )))
}

/// The webhook dispatcher of the webhook job; `None` without webhooks.
pub fn webhooks(
    settings: &Settings,
    database: &Database,
    clock: Arc<dyn Clock>,
) -> Result<Option<WebhookDispatcher>, StartupError> {
    if settings.webhooks.endpoints.is_empty() {
        return Ok(None);
    }
    for endpoint in &settings.webhooks.endpoints {
        // The name only: a receiver's url may carry its key.
        log::info!("webhook {}: every notification, signed", endpoint.name);
    }
    Ok(Some(WebhookDispatcher::new(
        Arc::new(WebhookOutboxStore::new(database.clone())),
        Arc::new(WebhookSender::new(settings.platform.http)?),
        &settings.webhooks,
        clock,
    )))
}

/// Opens the pool and applies pending migrations (blocking), unless
/// `MYSQL_CONFIG_DONT_UPGRADE_TABLES` says someone else does.
pub fn connect(settings: &DatabaseSettings) -> Result<Database, StartupError> {
    let database = Database::connect_with(&settings.url, settings.pool_size, settings.timeouts)?;
    if settings.migrate_at_start {
        database.run_migrations()?;
        log::info!(
            "database ready ({:?}), migrations applied",
            database.backend()
        );
    } else {
        log::info!(
            "database ready ({:?}), migrations skipped (MYSQL_CONFIG_DONT_UPGRADE_TABLES)",
            database.backend()
        );
    }
    Ok(database)
}

async fn open_accounts(
    ledger: &dyn LedgerRepository,
    clock: &dyn Clock,
    openings: &[OpeningBalance],
) -> Result<(), StartupError> {
    let failed = |project: &OpeningBalance| {
        let project = project.project.to_string();
        move |source| StartupError::OpeningBalance { project, source }
    };
    for opening in openings {
        let recharge = NewRecharge {
            project: opening.project.clone(),
            amount: opening.amount,
            comment: Some("opening balance from configuration".into()),
            operator: UserName::parse(CONFIG_OPERATOR).map_err(failed(opening))?,
            time: clock.now(),
        };
        if ledger
            .open_account(recharge)
            .await
            .map_err(failed(opening))?
        {
            log::info!("funded project {} with {}", opening.project, opening.amount);
        }
    }
    Ok(())
}

/// The line the black-box tests and `make run` users wait for, plus a first command to try.
fn announce(address: SocketAddr, settings: &Settings) {
    let url = format!("http://{address}");
    // Only a demo user's token is printed, and only while the configured users are in use.
    let token = match settings.identity {
        IdentitySettings::Config => settings
            .users
            .iter()
            .find(|u| u.principal.user.as_str() == "demo")
            .map_or("<token>", |u| u.token.as_str()),
        IdentitySettings::Platform { .. } => "<token>",
    };
    let mut out = std::io::stdout().lock();
    // A closed stdout must not stop the service: the log says the same.
    let _ = writeln!(out, "serviceusage listening on {url}");
    let _ = writeln!(
        out,
        "try: curl -H 'Authorization: Bearer {token}' {url}{API_PREFIX}/plans"
    );
    let _ = out.flush();
    log::info!("listening on {url}");
}
