//! The stored records and their indexes: users under one lock, sessions in
//! shards by session id, and the sessions of each user in shards by user id.

use std::collections::{BTreeMap, HashMap, HashSet};

use adapter_api::{Session, User};

/// Users with the provider-id index that makes provider ids unique.
#[derive(Default)]
pub(crate) struct Users {
    pub(crate) by_id: HashMap<String, User>,
    pub(crate) id_by_provider: HashMap<String, String>,
}

/// A stored session and the sequence number that keys it in the expiry
/// index.
struct Stored {
    session: Session,
    sequence: u64,
}

/// One shard of the sessions, with an index by idle expiry so that deleting
/// expired sessions touches only the sessions concerned.
///
/// The expiry index is keyed by `(idle_expires, sequence)` rather than by
/// the session id, so a renewal moves the entry without allocating a key.
#[derive(Default)]
pub(crate) struct Sessions {
    by_id: HashMap<String, Stored>,
    by_idle_expiry: BTreeMap<(i64, u64), String>,
    next_sequence: u64,
}

impl Sessions {
    pub(crate) fn get(&self, session_id: &str) -> Option<&Session> {
        self.by_id.get(session_id).map(|stored| &stored.session)
    }

    pub(crate) fn contains(&self, session_id: &str) -> bool {
        self.by_id.contains_key(session_id)
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &Session> {
        self.by_id.values().map(|stored| &stored.session)
    }

    /// Inserts a session whose id this shard does not hold.
    pub(crate) fn insert(&mut self, session: Session) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.by_idle_expiry
            .insert((session.idle_expires, sequence), session.id.clone());
        self.by_id
            .insert(session.id.clone(), Stored { session, sequence });
    }

    /// Sets new expiry times in place and returns the renewed session.
    pub(crate) fn renew(
        &mut self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Option<Session> {
        let stored = self.by_id.get_mut(session_id)?;
        let old_key = (stored.session.idle_expires, stored.sequence);
        let id = self
            .by_idle_expiry
            .remove(&old_key)
            .expect("expiry index and session map are updated together");
        self.by_idle_expiry
            .insert((idle_expires, stored.sequence), id);
        stored.session.expires = expires;
        stored.session.idle_expires = idle_expires;
        Some(stored.session.clone())
    }

    pub(crate) fn remove(&mut self, session_id: &str) -> Option<Session> {
        let stored = self.by_id.remove(session_id)?;
        self.by_idle_expiry
            .remove(&(stored.session.idle_expires, stored.sequence));
        Some(stored.session)
    }

    /// Returns whether a session with `idle_expires <= now` is held, looking
    /// at the first entry of the expiry index only.
    pub(crate) fn has_expired(&self, now: i64) -> bool {
        self.by_idle_expiry
            .first_key_value()
            .is_some_and(|((idle_expires, _), _)| *idle_expires <= now)
    }

    /// Removes every session with `idle_expires <= now`, walking only the
    /// expired end of the expiry index, and returns them.
    pub(crate) fn remove_expired(&mut self, now: i64) -> Vec<Session> {
        let mut removed = Vec::new();
        while self.has_expired(now) {
            let (_, id) = self
                .by_idle_expiry
                .pop_first()
                .expect("has_expired just saw an entry");
            let stored = self
                .by_id
                .remove(&id)
                .expect("expiry index and session map are updated together");
            removed.push(stored.session);
        }
        removed
    }
}

/// One shard of the index from a user id to the ids of that user's
/// sessions, so that listing or deleting a user's sessions takes one lock
/// and touches only those sessions.
#[derive(Default)]
pub(crate) struct UserSessions {
    ids_by_user: HashMap<String, HashSet<String>>,
}

impl UserSessions {
    pub(crate) fn ids(&self, user_id: &str) -> Vec<String> {
        self.ids_by_user
            .get(user_id)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn link(&mut self, user_id: &str, session_id: &str) {
        self.ids_by_user
            .entry(user_id.to_owned())
            .or_default()
            .insert(session_id.to_owned());
    }

    pub(crate) fn unlink(&mut self, user_id: &str, session_id: &str) {
        if let Some(ids) = self.ids_by_user.get_mut(user_id) {
            ids.remove(session_id);
            if ids.is_empty() {
                self.ids_by_user.remove(user_id);
            }
        }
    }
}
