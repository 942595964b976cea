//! Console Lambda entrypoint: no configuration and no AWS client (the console is static;
//! the browser calls the JSON API on the same origin), so the cold start is the runtime's.

use agnus_console::handle;
use agnus_shared::telemetry;
use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    lambda_http::run(service_fn(|req: Request| async move {
        Ok::<_, std::convert::Infallible>(handle(&req))
    }))
    .await
}
