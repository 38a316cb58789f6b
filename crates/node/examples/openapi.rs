//! Prints the node's OpenAPI document, as served at `/openapi.json`, so
//! that the explorer's TypeScript types can be generated from it without
//! starting a node:
//!
//! `cargo run -p cityledger-node --example openapi > openapi.json`

fn main() -> Result<(), serde_json::Error> {
    let document = cityledger_node::rest::openapi();
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}
