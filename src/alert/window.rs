//! Sliding windows with bounded memory: "N events for one key within W",
//! one alert per key per window, a cap on the keys tracked.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

/// What a window reports when a key reaches the threshold.
#[derive(Debug)]
pub(crate) struct Reached {
    pub(crate) count: u64,
    pub(crate) event_ids: Vec<String>,
}

#[derive(Debug)]
struct KeyState {
    /// The last `threshold` events (time, event id), oldest first.
    events: VecDeque<(Instant, String)>,
    /// No second alert for this key before then.
    quiet_until: Option<Instant>,
    last: Instant,
    /// Its place in [`KeyedWindow::by_last`]: `(last, id)`.
    id: u64,
}

/// Counts events per key over a sliding window.
#[derive(Debug)]
pub(crate) struct KeyedWindow {
    threshold: usize,
    window: Duration,
    max_keys: usize,
    keys: HashMap<String, KeyState>,
    /// The keys by the time they were last seen, stalest first, so that
    /// forgetting the expired keys and the stalest one costs a lookup,
    /// not a pass over every key (a pass per new key made a spray of
    /// addresses quadratic once `max_keys` were tracked).
    by_last: BTreeMap<(Instant, u64), String>,
    next_id: u64,
    /// Events since the last sweep of expired keys.
    since_sweep: usize,
}

impl KeyedWindow {
    pub(crate) fn new(threshold: u64, window: Duration, max_keys: usize) -> KeyedWindow {
        KeyedWindow {
            threshold: usize::try_from(threshold).unwrap_or(usize::MAX).max(1),
            window,
            max_keys: max_keys.max(1),
            keys: HashMap::new(),
            by_last: BTreeMap::new(),
            next_id: 0,
            since_sweep: 0,
        }
    }

    /// Keys tracked now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// One event for `key` at `at`. Returns the alert when the key reaches
    /// the threshold within the window and has not alerted in the last
    /// window; `capped` is set when a key had to be evicted to make room.
    pub(crate) fn hit(
        &mut self,
        key: &str,
        at: Instant,
        event_id: &str,
        capped: &mut bool,
    ) -> Option<Reached> {
        self.since_sweep += 1;
        if self.since_sweep >= 1024 {
            self.sweep(at);
        }
        if !self.keys.contains_key(key) && self.keys.len() >= self.max_keys {
            self.sweep(at);
            if self.keys.len() >= self.max_keys {
                self.evict_stalest();
                *capped = true;
            }
        }
        let window = self.window;
        let threshold = self.threshold;
        let next_id = &mut self.next_id;
        let state = self.keys.entry(key.to_owned()).or_insert_with(|| {
            *next_id += 1;
            KeyState {
                events: VecDeque::with_capacity(threshold.min(64)),
                quiet_until: None,
                last: at,
                id: *next_id,
            }
        });
        let old_place = (state.last, state.id);
        state.last = state.last.max(at);
        let place = (state.last, state.id);
        if old_place != place || !self.by_last.contains_key(&place) {
            self.by_last.remove(&old_place);
            self.by_last.insert(place, key.to_owned());
        }
        while let Some((t, _)) = state.events.front() {
            if at.saturating_duration_since(*t) > window {
                state.events.pop_front();
            } else {
                break;
            }
        }
        state.events.push_back((at, event_id.to_owned()));
        while state.events.len() > threshold {
            state.events.pop_front();
        }
        if state.quiet_until.is_some_and(|q| at < q) || state.events.len() < threshold {
            return None;
        }
        state.quiet_until = Some(at + window);
        Some(Reached {
            count: state.events.len() as u64,
            event_ids: state.events.iter().map(|(_, id)| id.clone()).collect(),
        })
    }

    /// Forgets the keys with no event in the window. (Such a key has no
    /// alert quiet period running either: its quiet period ended a window
    /// after an event no later than its last.) Stalest first, so it stops
    /// at the first key still in its window.
    fn sweep(&mut self, now: Instant) {
        self.since_sweep = 0;
        while let Some(entry) = self.by_last.first_entry() {
            let (last, _) = *entry.key();
            if now.saturating_duration_since(last) <= self.window {
                break;
            }
            let key = entry.remove();
            self.keys.remove(&key);
        }
    }

    /// Drops the key seen least recently.
    fn evict_stalest(&mut self) {
        if let Some((_, key)) = self.by_last.pop_first() {
            self.keys.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nth_event_alerts_once_per_window() {
        let mut w = KeyedWindow::new(3, Duration::from_secs(60), 10);
        let t = Instant::now();
        let mut capped = false;
        let fired: Vec<bool> = (0..6)
            .map(|i| {
                w.hit(
                    "ip",
                    t + Duration::from_secs(i),
                    &format!("e{i}"),
                    &mut capped,
                )
                .is_some()
            })
            .collect();
        assert_eq!(fired, [false, false, true, false, false, false]);
        // After the quiet window, the key alerts again.
        let again = w.hit("ip", t + Duration::from_secs(70), "x", &mut capped);
        let again = w
            .hit("ip", t + Duration::from_secs(71), "y", &mut capped)
            .or(again);
        let r = w
            .hit("ip", t + Duration::from_secs(72), "z", &mut capped)
            .or(again)
            .expect("alerts again after the window");
        assert_eq!(r.event_ids, ["x", "y", "z"]);
        assert!(!capped);
    }

    #[test]
    fn events_older_than_the_window_do_not_count() {
        let mut w = KeyedWindow::new(2, Duration::from_secs(10), 10);
        let t = Instant::now();
        let mut capped = false;
        assert!(w.hit("k", t, "a", &mut capped).is_none());
        assert!(w
            .hit("k", t + Duration::from_secs(11), "b", &mut capped)
            .is_none());
        assert!(w
            .hit("k", t + Duration::from_secs(12), "c", &mut capped)
            .is_some());
    }

    /// A spray of new keys past the cap: each evicts exactly the stalest,
    /// the index stays in step with the keys, and a key that keeps coming
    /// back is never the one forgotten.
    #[test]
    fn a_spray_of_keys_evicts_the_stalest_each_time() {
        let mut w = KeyedWindow::new(3, Duration::from_secs(60), 100);
        let t = Instant::now();
        let mut evictions = 0;
        let mut alerted = 0;
        for i in 0..20_000u64 {
            let at = t + Duration::from_millis(i);
            let mut capped = false;
            w.hit(&format!("k{i}"), at, "e", &mut capped);
            evictions += u64::from(capped);
            if i % 50 == 0 {
                let mut capped = false;
                alerted += u64::from(w.hit("attacker", at, "a", &mut capped).is_some());
                evictions += u64::from(capped);
            }
            assert_eq!(w.len(), w.by_last.len());
            assert!(w.len() <= 100);
        }
        assert_eq!(alerted, 1, "the attacker's key was kept and alerted");
        // 20,001 keys into 100 places.
        assert_eq!(evictions, 20_001 - 100);
        // Past the window, a sweep forgets every key.
        let mut capped = false;
        w.hit("late", t + Duration::from_secs(3600), "z", &mut capped);
        assert!(!capped);
        w.sweep(t + Duration::from_secs(3600));
        assert_eq!((w.len(), w.by_last.len()), (1, 1));
    }

    #[test]
    fn the_key_cap_evicts_the_stalest_and_says_so() {
        let mut w = KeyedWindow::new(2, Duration::from_secs(60), 2);
        let t = Instant::now();
        let mut capped = false;
        w.hit("a", t, "1", &mut capped);
        w.hit("b", t + Duration::from_secs(1), "2", &mut capped);
        assert!(!capped);
        w.hit("c", t + Duration::from_secs(2), "3", &mut capped);
        assert!(capped);
        assert_eq!(w.len(), 2);
        // "a" was evicted: its count starts again.
        let mut c2 = false;
        assert!(w
            .hit("a", t + Duration::from_secs(3), "4", &mut c2)
            .is_none());
        // Expired keys are swept before anything is evicted.
        let mut c3 = false;
        w.hit("d", t + Duration::from_secs(200), "5", &mut c3);
        assert!(!c3);
    }
}
