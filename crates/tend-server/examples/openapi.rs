//! Prints the OpenAPI document the server serves at `/api/v1/openapi.json`, as checked in at
//! the repository root: `cargo run -p tend-server --example openapi > openapi.json`.

fn main() {
    let document = tend_server::openapi();
    let text = serde_json::to_string_pretty(&document).expect("a JSON value prints");
    println!("{text}");
}
