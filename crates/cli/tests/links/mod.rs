//! A fault proxy for the p2p links of a test network: one TCP relay per
//! ordered pair of validators, so that the test can cut any set of links and
//! heal them again. Validator `i` dials validator `j` through relay `(i, j)`;
//! its config lists that relay as `j`'s address. Everything stays on
//! 127.0.0.1; the p2p layer still authenticates and encrypts end to end, the
//! relays only carry bytes.

use cityledger_node::config::NodeConfig;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The relays of one network.
pub struct Links {
    /// Pairs `(i, j)` whose link is cut (both directions are stored).
    cut: Arc<Mutex<BTreeSet<(usize, usize)>>>,
    /// Bumped on every change, so that relays drop connections just cut.
    generation: watch::Sender<u64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Links {
    /// Starts a relay for every ordered pair of the validators in `homes`
    /// and points each home's config at its relays.
    pub async fn install(homes: &[impl AsRef<Path>]) -> Links {
        let configs: Vec<NodeConfig> = homes.iter().map(|h| read_config(h.as_ref())).collect();
        let (generation, _) = watch::channel(0);
        let mut links = Links {
            cut: Arc::new(Mutex::new(BTreeSet::new())),
            generation,
            tasks: Vec::new(),
        };
        for (i, home) in homes.iter().enumerate() {
            let mut config = configs[i].clone();
            for (j, target) in configs.iter().enumerate() {
                if i == j {
                    continue;
                }
                let relay = links.relay(i, j, target.p2p_listen).await;
                let entry = config
                    .validators
                    .iter_mut()
                    .find(|v| v.name == target.name)
                    .expect("every validator is in every address book");
                entry.p2p = relay;
            }
            write_config(home.as_ref(), &config);
        }
        links
    }

    /// Cuts every link between `side` and the other validators.
    pub fn partition(&self, side: &[usize], all: usize) {
        let mut cut = self.cut.lock().expect("links lock");
        for i in side {
            for j in (0..all).filter(|j| !side.contains(j)) {
                cut.insert((*i, j));
                cut.insert((j, *i));
            }
        }
        drop(cut);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Restores every link.
    pub fn heal(&self) {
        self.cut.lock().expect("links lock").clear();
        self.generation.send_modify(|g| *g += 1);
    }

    async fn relay(&mut self, from: usize, to: usize, target: SocketAddr) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a relay on 127.0.0.1");
        let address = listener.local_addr().expect("relay address");
        let cut = self.cut.clone();
        let generation = self.generation.subscribe();
        self.tasks.push(tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if is_cut(&cut, from, to) {
                    continue;
                }
                let cut = cut.clone();
                let mut generation = generation.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let mut inbound = inbound;
                    // One copy future for the connection's life: restarting
                    // it would drop the bytes it holds in flight.
                    let copy = copy_bidirectional(&mut inbound, &mut outbound);
                    tokio::pin!(copy);
                    loop {
                        tokio::select! {
                            _ = &mut copy => return,
                            changed = generation.changed() => {
                                if changed.is_err() || is_cut(&cut, from, to) {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        }));
        address
    }
}

impl Drop for Links {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn is_cut(cut: &Mutex<BTreeSet<(usize, usize)>>, from: usize, to: usize) -> bool {
    cut.lock().expect("links lock").contains(&(from, to))
}

fn read_config(home: &Path) -> NodeConfig {
    let path = home.join("config.toml");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write_config(home: &Path, config: &NodeConfig) {
    let path = home.join("config.toml");
    let text = toml::to_string_pretty(config).expect("encode the config");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}
