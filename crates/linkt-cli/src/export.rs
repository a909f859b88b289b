//! `entity-export`: the CSV the API streams, copied to stdout as it arrives.
//!
//! The generated CLI cannot print a streamed (non-JSON) body, so this
//! subcommand reads the arguments the generated command declares and makes
//! the call itself.

use futures::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

use clap::ArgMatches;
use linkt::{Client, types};

/// Sends `entity_export` with the subcommand's arguments and writes the body
/// to stdout.
pub(crate) async fn run(client: &Client, matches: &ArgMatches) -> anyhow::Result<()> {
    let mut request = client.entity_export();
    if let Some(ids) = matches.get_one::<Vec<String>>("entity-ids") {
        request = request.entity_ids(ids.clone());
    }
    if let Some(entity_type) = matches.get_one::<types::EntityType>("entity-type") {
        request = request.entity_type(entity_type.clone());
    }
    if let Some(format) = matches.get_one::<types::EntityExportFormat>("format") {
        request = request.format(format.clone());
    }
    if let Some(hide) = matches.get_one::<bool>("hide-duplicates") {
        request = request.hide_duplicates(*hide);
    }
    if let Some(icps) = matches.get_one::<Vec<String>>("icp-id") {
        request = request.icp_id(icps.clone());
    }
    if let Some(sheet) = matches.get_one::<String>("sheet-id") {
        request = request.sheet_id(sheet.clone());
    }
    if let Some(status) = matches.get_one::<Vec<String>>("status") {
        request = request.status(status.clone());
    }
    let response = request.send().await?;

    let mut body = response.into_inner().into_inner();
    let mut stdout = tokio::io::stdout();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|err| anyhow::anyhow!("reading the export: {err}"))?;
        if stdout.write_all(&chunk).await.is_err() {
            // The reader went away (`| head`): not a failure of the export.
            return Ok(());
        }
    }
    let _ = stdout.flush().await;
    Ok(())
}
