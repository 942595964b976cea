//! The route table is declared once (`agnus_shared::routes::ROUTES`); the local gateway
//! (`make dev`, `agnus gateway`) routes with it and the cloud template must serve exactly
//! those routes.

use std::collections::BTreeSet;

use agnus_shared::routes::ROUTES;
use agnus_tests::repo_root;

type RouteSet = BTreeSet<(String, String, String)>;

fn declared() -> RouteSet {
    ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned(), r.function.to_owned()))
        .collect()
}

fn template() -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(repo_root().join("infra/template.yaml")).unwrap()).unwrap()
}

fn cloud_api() -> RouteSet {
    let t = template();
    let mut set = RouteSet::new();
    for (_, resource) in t["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("Binary");
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, event) in events {
            if event["Type"] == "HttpApi" {
                let p = &event["Properties"];
                set.insert((
                    p["Method"].as_str().unwrap().to_owned(),
                    p["Path"].as_str().unwrap().to_owned(),
                    binary.to_owned(),
                ));
            }
        }
    }
    set
}

/// `make dev` routes with the table itself (`agnus gateway`); cargo-lambda must not carry a
/// second table, or its private Invoke port would serve routes of its own.
#[test]
fn cargo_lambda_carries_no_route_table_of_its_own() {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap()).unwrap();
    let watch = manifest
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.get("lambda"))
        .and_then(|l| l.get("watch"))
        .and_then(|w| w.get("router"));
    assert!(watch.is_none(), "Cargo.toml declares a cargo-lambda router: {watch:?}");
}

#[test]
fn cloud_api_serves_exactly_the_declared_routes() {
    assert_eq!(cloud_api(), declared());
}

#[test]
fn every_function_environment_variable_is_read_by_the_config() {
    let known: BTreeSet<&str> = agnus_shared::config::ENV_VARS.iter().map(|(name, _)| *name).collect();
    let t = template();
    let mut names = Vec::new();
    if let Some(vars) = t["Globals"]["Function"]["Environment"]["Variables"].as_mapping() {
        names.extend(vars.keys().filter_map(|k| k.as_str().map(str::to_owned)));
    }
    for (_, resource) in t["Resources"].as_mapping().unwrap() {
        if let Some(vars) = resource["Properties"]["Environment"]["Variables"].as_mapping() {
            names.extend(vars.keys().filter_map(|k| k.as_str().map(str::to_owned)));
        }
    }
    assert!(!names.is_empty());
    for name in names {
        assert!(
            known.contains(name.as_str()) || name == "RUST_LOG",
            "{name} is set in infra/template.yaml but not read by shared/src/config.rs"
        );
    }
}

/// `GET /api/openapi.json` describes exactly the `/api` routes of the route table.
#[test]
fn the_openapi_document_lists_exactly_the_api_routes() {
    let described: BTreeSet<(String, String)> = agnus_shared::openapi::OPS
        .iter()
        .map(|o| (o.method.to_owned(), o.path.to_owned()))
        .collect();
    assert_eq!(
        described.len(),
        agnus_shared::openapi::OPS.len(),
        "no route described twice"
    );
    let routed: BTreeSet<(String, String)> = agnus_shared::openapi::api_routes()
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect();
    assert_eq!(described, routed);
    // The served document (as the console function answers it) has the same operations.
    let resp = agnus_console::respond(&lambda_http::http::Method::GET, "/api/openapi.json", None);
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let doc: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut served = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            served.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    assert_eq!(served, routed);
}
