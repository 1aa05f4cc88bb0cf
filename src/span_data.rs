//! What an audit layer keeps in a span's extensions, kept apart per layer.
//!
//! A span's extensions hold one value per Rust type, shared by every layer
//! of the subscriber. Two audit layers in one subscriber (each writing its
//! own files, perhaps with its own redaction policy or context fields) each
//! keep their own [`SpanContext`](crate::context::SpanContext) and
//! transaction buffer in the same span, so the value stored is a
//! [`PerLayer`]: one entry per layer, found by the layer's [`LayerId`]. The
//! first entry is stored inline: with one layer, this costs no more than
//! storing the value itself.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use tracing_subscriber::registry::{Extensions, ExtensionsMut};

/// Tells the audit layers of a process apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LayerId(u32);

impl LayerId {
    /// A new id, never handed out before in this process.
    pub(crate) fn next() -> LayerId {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        LayerId(NEXT.fetch_add(1, Relaxed))
    }
}

/// One value per layer, for the span's extensions.
pub(crate) struct PerLayer<T> {
    first: (LayerId, T),
    rest: Vec<(LayerId, T)>,
}

impl<T> PerLayer<T> {
    fn slot(&self, layer: LayerId) -> Option<&T> {
        if self.first.0 == layer {
            return Some(&self.first.1);
        }
        self.rest.iter().find(|(l, _)| *l == layer).map(|(_, v)| v)
    }

    fn slot_mut(&mut self, layer: LayerId) -> Option<&mut T> {
        if self.first.0 == layer {
            return Some(&mut self.first.1);
        }
        self.rest
            .iter_mut()
            .find(|(l, _)| *l == layer)
            .map(|(_, v)| v)
    }
}

/// The value `layer` keeps in the span, if any.
pub(crate) fn get<'a, T: Send + Sync + 'static>(
    extensions: &'a Extensions<'_>,
    layer: LayerId,
) -> Option<&'a T> {
    extensions.get::<PerLayer<T>>()?.slot(layer)
}

/// The value `layer` keeps in the span, if any, to change.
pub(crate) fn get_mut<'a, T: Send + Sync + 'static>(
    extensions: &'a mut ExtensionsMut<'_>,
    layer: LayerId,
) -> Option<&'a mut T> {
    extensions.get_mut::<PerLayer<T>>()?.slot_mut(layer)
}

/// The value `layer` keeps in the span, made by `make` if there is none.
/// Never replaces another layer's value. (`None` only if the extensions
/// refused the value, which they do not.)
pub(crate) fn get_or_insert_with<'a, T: Send + Sync + 'static>(
    extensions: &'a mut ExtensionsMut<'_>,
    layer: LayerId,
    make: impl FnOnce() -> T,
) -> Option<&'a mut T> {
    match extensions.get_mut::<PerLayer<T>>() {
        Some(all) => {
            if all.slot(layer).is_none() {
                all.rest.push((layer, make()));
            }
        }
        None => extensions.insert(PerLayer {
            first: (layer, make()),
            rest: Vec::new(),
        }),
    }
    get_mut(extensions, layer)
}

/// The layers that keep a value of type `T` in the span.
pub(crate) fn layers<T: Send + Sync + 'static>(extensions: &Extensions<'_>) -> Vec<LayerId> {
    match extensions.get::<PerLayer<T>>() {
        Some(all) => std::iter::once(all.first.0)
            .chain(all.rest.iter().map(|(l, _)| *l))
            .collect(),
        None => Vec::new(),
    }
}

/// Takes `layer`'s value out of the span (other layers' values stay).
pub(crate) fn remove<T: Send + Sync + 'static>(
    extensions: &mut ExtensionsMut<'_>,
    layer: LayerId,
) -> Option<T> {
    let all = extensions.get_mut::<PerLayer<T>>()?;
    if all.first.0 == layer {
        if all.rest.is_empty() {
            return extensions.remove::<PerLayer<T>>().map(|all| all.first.1);
        }
        let promoted = all.rest.remove(0);
        return Some(std::mem::replace(&mut all.first, promoted).1);
    }
    let at = all.rest.iter().position(|(l, _)| *l == layer)?;
    Some(all.rest.remove(at).1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_layer_slots_are_kept_apart() {
        let (a, b, c) = (LayerId::next(), LayerId::next(), LayerId::next());
        let mut all = PerLayer {
            first: (a, 1),
            rest: vec![(b, 2)],
        };
        assert_eq!(all.slot(a), Some(&1));
        assert_eq!(all.slot(b), Some(&2));
        assert_eq!(all.slot(c), None);
        *all.slot_mut(b).unwrap() = 3;
        assert_eq!(all.slot(b), Some(&3));
        assert_eq!(all.slot(a), Some(&1));
    }
}
