//! Building the application from validated settings: the database, the adapters the
//! configuration picks, the use cases, and the HTTP server bound to its listener.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::Logger;
use actix_web::{web, App, HttpServer};
use domain::ids::UserName;
use domain::ledger::NewRecharge;
use domain::ports::{Clock, LedgerRepository, StoreHealth};
use domain::usecases::{Ports, UseCases};
use infra_mysql::{
    ConsumptionStore, Database, HealthStore, LedgerStore, NotificationStore, OrderStore,
    RenewalStore, StoreError,
};

use crate::adapters::{ConfigIdentity, ConfigPlans, RandomIds, SystemClock};
use crate::config::{DatabaseSettings, OpeningBalance, Settings};
use crate::dto::json::json_config;
use crate::jobs::RenewalJob;
use crate::routes::{self, path_config, query_config, API_PREFIX};

/// What every handler shares.
pub struct AppState {
    pub usecases: UseCases,
    pub health: Arc<dyn StoreHealth>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
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
}

impl Application {
    /// Connects to the database, applies migrations, funds the configured opening balances
    /// (once per project, ever), binds the listener (port 0 picks a free port) and prints
    /// where it listens.
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        // Connecting and migrating block, but nothing else runs on this thread yet.
        let database = connect(&settings.database)?;
        let ports = ports(&settings, &database, Arc::new(SystemClock));
        open_accounts(
            ports.ledger.as_ref(),
            ports.clock.as_ref(),
            &settings.opening_balances,
        )
        .await?;
        let usecases = UseCases::new(ports, settings.billing);
        let renewal_job = RenewalJob::new(usecases.clone(), settings.renewal_job);
        let state = web::Data::new(AppState {
            usecases,
            health: Arc::new(HealthStore::new(database)),
        });

        let bind = settings.server.bind;
        let listener =
            TcpListener::bind(bind).map_err(|source| StartupError::Bind { addr: bind, source })?;
        let address = listener.local_addr()?;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(json_config())
                .app_data(query_config())
                .app_data(path_config())
                // Method, path, status, size and time: never headers, so no token is logged.
                .wrap(Logger::new("%a \"%r\" %s %b %Dms"))
                .configure(routes::configure)
                .default_service(web::to(routes::not_found))
        })
        .listen(listener)?
        .run();

        announce(address, &settings);
        Ok(Application {
            address,
            server,
            renewal_job,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until the process gets SIGINT or SIGTERM, then finishes running requests.
    /// The renewal job runs beside the server and stops with it: a run in progress may
    /// finish its batches (see [`crate::jobs::renewal_job`]).
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        let job = self.renewal_job.spawn();
        let served = self.server.await;
        if let Some(job) = job {
            job.stop().await;
        }
        Ok(served?)
    }
}

/// `serviceusage migrate`: applies migrations and returns.
pub fn migrate(settings: &DatabaseSettings) -> Result<(), StartupError> {
    connect(settings).map(drop)
}

/// The adapters the configuration picks, all on `database`, reading the time from `clock`.
/// The server and `serviceusage renew` both build their ports here, so a run from the
/// command line renews exactly as the server's job does.
pub fn ports(settings: &Settings, database: &Database, clock: Arc<dyn Clock>) -> Ports {
    let notifications = Arc::new(NotificationStore::new(database.clone()));
    Ports {
        orders: Arc::new(OrderStore::new(database.clone())),
        usages: Arc::new(ConsumptionStore::new(database.clone())),
        ledger: Arc::new(LedgerStore::new(database.clone())),
        renewals: Arc::new(RenewalStore::new(database.clone())),
        notifier: notifications.clone(),
        notifications,
        plans: Arc::new(ConfigPlans::new(settings.plans.clone())),
        identity: Arc::new(ConfigIdentity::new(settings.users.clone())),
        charging: Arc::new(crate::adapters::skeleton::SkeletonCharging),
        credits: Arc::new(crate::adapters::skeleton::SkeletonCharging),
        provisioning: Arc::new(crate::adapters::skeleton::SkeletonCharging),
        clock,
        ids: Arc::new(RandomIds),
    }
}

/// Opens the pool and applies pending migrations (blocking).
pub fn connect(settings: &DatabaseSettings) -> Result<Database, StartupError> {
    let database = Database::connect(&settings.url, settings.pool_size)?;
    database.run_migrations()?;
    log::info!(
        "database ready ({:?}), migrations applied",
        database.backend()
    );
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
    let token = settings
        .users
        .iter()
        .find(|u| u.principal.user.as_str() == "demo")
        .map_or("<token>", |u| u.token.as_str());
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
