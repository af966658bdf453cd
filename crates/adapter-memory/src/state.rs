//! The stored records and their indexes, kept consistent under one lock per
//! side.

use std::collections::{BTreeSet, HashMap, HashSet};

use adapter_api::{Session, User};

/// Users with the provider-id index that makes provider ids unique.
#[derive(Default)]
pub(crate) struct Users {
    pub(crate) by_id: HashMap<String, User>,
    pub(crate) id_by_provider: HashMap<String, String>,
}

/// Sessions with an index per user and an index by idle expiry, so that
/// listing a user's sessions and deleting expired ones touch only the
/// sessions concerned.
#[derive(Default)]
pub(crate) struct Sessions {
    pub(crate) by_id: HashMap<String, Session>,
    pub(crate) ids_by_user: HashMap<String, HashSet<String>>,
    pub(crate) by_idle_expiry: BTreeSet<(i64, String)>,
}

impl Sessions {
    pub(crate) fn insert(&mut self, session: Session) {
        self.ids_by_user
            .entry(session.user_id.clone())
            .or_default()
            .insert(session.id.clone());
        self.by_idle_expiry
            .insert((session.idle_expires, session.id.clone()));
        self.by_id.insert(session.id.clone(), session);
    }

    pub(crate) fn remove(&mut self, session_id: &str) -> Option<Session> {
        let session = self.by_id.remove(session_id)?;
        if let Some(ids) = self.ids_by_user.get_mut(&session.user_id) {
            ids.remove(session_id);
            if ids.is_empty() {
                self.ids_by_user.remove(&session.user_id);
            }
        }
        self.by_idle_expiry
            .remove(&(session.idle_expires, session.id.clone()));
        Some(session)
    }

    pub(crate) fn remove_user(&mut self, user_id: &str) {
        let Some(ids) = self.ids_by_user.remove(user_id) else {
            return;
        };
        for id in ids {
            if let Some(session) = self.by_id.remove(&id) {
                self.by_idle_expiry.remove(&(session.idle_expires, id));
            }
        }
    }

    /// Removes every session with `idle_expires <= now`, walking only the
    /// expired end of the expiry index.
    pub(crate) fn remove_expired(&mut self, now: i64) -> u64 {
        let mut removed = 0;
        while let Some((idle_expires, _)) = self.by_idle_expiry.first() {
            if *idle_expires > now {
                break;
            }
            let (_, id) = self
                .by_idle_expiry
                .pop_first()
                .expect("first() just returned an entry");
            let session = self
                .by_id
                .remove(&id)
                .expect("expiry index and session map are updated together");
            if let Some(ids) = self.ids_by_user.get_mut(&session.user_id) {
                ids.remove(&id);
                if ids.is_empty() {
                    self.ids_by_user.remove(&session.user_id);
                }
            }
            removed += 1;
        }
        removed
    }
}
