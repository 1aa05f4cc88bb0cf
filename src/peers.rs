//! The audit layers of one subscriber reaching each other.
//!
//! [`set_user`](crate::set_user) and [`Transaction`](crate::Transaction)
//! find the crate's layer through the subscriber (`downcast_ref`), which
//! yields only the outermost one. The other audit layers of the subscriber
//! (`registry().with(a).with(b)`) therefore make themselves known to the
//! outermost when the subscriber becomes a `Dispatch`
//! (`Layer::on_register_dispatch`), with what it needs to act for them:
//! their [`LayerId`], their sinks (for committed transactions) and their
//! policy and caps (to render the user as they would).

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::context;
use crate::json;
use crate::nesting;
use crate::record::ToJson;
use crate::redact::{user_info, Policy};
use crate::sink::Sinks;
use crate::span_data::LayerId;

/// What one audit layer's span data and output are, seen from another.
#[derive(Clone)]
pub(crate) struct Peer {
    pub(crate) id: LayerId,
    pub(crate) sinks: Arc<Sinks>,
    pub(crate) policy: Arc<Policy>,
    pub(crate) string_cap: usize,
    pub(crate) max_depth: usize,
}

impl Peer {
    /// The limits this layer writes context values (span fields, the user
    /// of `set_user`) with.
    pub(crate) fn context_limits(&self) -> json::Limits {
        json::Limits {
            string_cap: self.string_cap.min(context::CONTEXT_STRING_CAP),
            value_depth: nesting::value_depth(self.max_depth),
            minimal: false,
        }
    }

    /// `user_id` and `user_info` rendered as this layer writes context
    /// values.
    pub(crate) fn render_user(
        &self,
        user_id: &dyn fmt::Display,
        user_info: Option<&dyn ToJson>,
    ) -> (context::Value, Option<context::Value>) {
        let (rendered, _) = json::scope(&self.policy, self.context_limits(), |opts| {
            let render = |write: &dyn Fn(&mut String) -> fmt::Result| {
                let mut json = String::new();
                let (_, truncated) = opts.cuts_of(|| write(&mut json));
                context::Value { json, truncated }
            };
            let id = render(&|out| json::display(out, user_id, opts));
            let info = user_info.map(|info| {
                render(&|out| user_info::write_serialized(out, opts, |s| info.write_json(s, opts)))
            });
            (id, info)
        });
        rendered
    }
}

/// Every audit layer alive in the process, by id: composed with
/// `a.and_then(b)`, in a `Vec<Box<dyn Layer>>` or in an `Option`, a layer
/// does not learn of the others in `on_layer`, but it leaves its id in the
/// spans it keeps data in, and that id leads here.
static LIVE: Mutex<Vec<Peer>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<Peer>> {
    lock(&LIVE)
}

/// Makes `peer` findable by its id (while its layer lives).
pub(crate) fn register(peer: &Peer) {
    live().push(peer.clone());
}

/// Forgets the layer `id` (its layer is dropped).
pub(crate) fn unregister(id: LayerId) {
    live().retain(|p| p.id != id);
}

/// Adds to `peers` the live layers named by `ids` that are not in it yet.
pub(crate) fn extend_with(peers: &mut Vec<Peer>, ids: impl IntoIterator<Item = LayerId>) {
    let mut missing: Vec<LayerId> = ids
        .into_iter()
        .filter(|id| peers.iter().all(|p| p.id != *id))
        .collect();
    if missing.is_empty() {
        return;
    }
    missing.dedup();
    let live = live();
    for id in missing {
        if peers.iter().any(|p| p.id == id) {
            continue;
        }
        if let Some(peer) = live.iter().find(|p| p.id == id) {
            peers.push(peer.clone());
        }
    }
}

/// The peers a layer knows, whatever a panic elsewhere left behind.
pub(crate) fn lock(peers: &Mutex<Vec<Peer>>) -> std::sync::MutexGuard<'_, Vec<Peer>> {
    peers
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
