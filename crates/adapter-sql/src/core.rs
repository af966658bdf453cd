//! The adapter operations, written once and expanded for each database.
//!
//! sqlx code that is generic over `Database` needs a long list of
//! higher-ranked bounds on every function, so the operations are a macro
//! instead. The module that expands it supplies what differs between
//! databases:
//! - `sql`: the query strings (placeholders and casts differ) and the
//!   functions `begin_write`, `update_session` and `delete_sessions`;
//! - `error::CLASSIFIER`: how the database reports constraint violations
//!   and transient failures.
//!
//! Queries list user columns as `id, provider_id, hashed_password,
//! attributes` and session columns as `id, user_id, expires, idle_expires`,
//! the order `crate::record` reads.

/// Implements the adapter traits for `SqlAdapter<$db>`.
macro_rules! impl_adapter {
    ($db:ty) => {
        impl $crate::SqlAdapter<$db> {
            /// Returns whether a stored id can equal `id`. Validation keeps
            /// ids with NUL out of every table, and PostgreSQL rejects NUL
            /// in a text parameter, so such lookups return at once.
            fn can_match(id: &str) -> bool {
                !id.contains('\0')
            }

            fn fail(&self, operation: &'static str, err: sqlx::Error) -> adapter_api::Error {
                error::CLASSIFIER.backend(self.error_hook.as_ref(), operation, err)
            }

            /// Turns an error of an insert into `users` into the duplicate
            /// it reports, or a backend error.
            async fn insert_user_error(&self, err: sqlx::Error, user: &adapter_api::User) -> adapter_api::Error {
                use $crate::error::Violation;
                match error::CLASSIFIER.violation(&err) {
                    Some(Violation::PrimaryKey) => adapter_api::Error::DuplicateUserId { user_id: user.id.clone() },
                    Some(Violation::ProviderId) => adapter_api::Error::DuplicateProviderId {
                        provider_id: user.provider_id.clone(),
                    },
                    Some(Violation::UnnamedUnique) => {
                        // The error does not say which key collided. Only
                        // the id and the provider id are unique, so the id
                        // decides.
                        let exists = sqlx::query(sql::USER_ID_EXISTS)
                            .bind(&user.id)
                            .fetch_optional(&self.pool)
                            .await;
                        match exists {
                            Ok(Some(_)) => adapter_api::Error::DuplicateUserId { user_id: user.id.clone() },
                            Ok(None) => adapter_api::Error::DuplicateProviderId {
                                provider_id: user.provider_id.clone(),
                            },
                            Err(lookup_err) => self.fail("set_user", lookup_err),
                        }
                    }
                    _ => self.fail("set_user", err),
                }
            }
        }

        #[adapter_api::async_trait]
        impl adapter_api::UserAdapter for $crate::SqlAdapter<$db> {
            async fn get_user(&self, user_id: &str) -> adapter_api::Result<Option<adapter_api::User>> {
                if !Self::can_match(user_id) {
                    return Ok(None);
                }
                let span = tracing::debug_span!("get_user", backend = error::CLASSIFIER.backend, user_id);
                async {
                    let row = sqlx::query(sql::GET_USER)
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|err| self.fail("get_user", err))?;
                    row.map(|row| $crate::record::user_from_row(&row, 0)).transpose()
                }
                .instrument(span)
                .await
            }

            async fn get_user_by_provider_id(&self, provider_id: &str) -> adapter_api::Result<Option<adapter_api::User>> {
                if !Self::can_match(provider_id) {
                    return Ok(None);
                }
                // The provider id is often an email address, so the span
                // does not carry it.
                let span = tracing::debug_span!("get_user_by_provider_id", backend = error::CLASSIFIER.backend);
                async {
                    let row = sqlx::query(sql::GET_USER_BY_PROVIDER_ID)
                        .bind(provider_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|err| self.fail("get_user_by_provider_id", err))?;
                    row.map(|row| $crate::record::user_from_row(&row, 0)).transpose()
                }
                .instrument(span)
                .await
            }

            async fn set_user(&self, user: adapter_api::User) -> adapter_api::Result<adapter_api::User> {
                adapter_api::validate::user(&user)?;
                let span = tracing::debug_span!("set_user", backend = error::CLASSIFIER.backend, user_id = %user.id);
                async {
                    let attributes = $crate::record::attributes_to_text(&user.attributes);
                    let inserted = sqlx::query(sql::INSERT_USER)
                        .bind(&user.id)
                        .bind(&user.provider_id)
                        .bind(user.hashed_password.as_deref())
                        .bind(attributes)
                        .execute(&self.pool)
                        .await;
                    match inserted {
                        Ok(_) => Ok(user),
                        Err(err) => Err(self.insert_user_error(err, &user).await),
                    }
                }
                .instrument(span)
                .await
            }

            async fn update_user(&self, user_id: &str, patch: adapter_api::UserPatch) -> adapter_api::Result<adapter_api::User> {
                adapter_api::validate::user_patch(&patch)?;
                if !Self::can_match(user_id) {
                    return Err(adapter_api::Error::InvalidUserId { user_id: user_id.to_owned() });
                }
                let span = tracing::debug_span!("update_user", backend = error::CLASSIFIER.backend, user_id);
                async {
                    let invalid_user = || adapter_api::Error::InvalidUserId { user_id: user_id.to_owned() };
                    if patch.is_empty() {
                        return self.get_user(user_id).await?.ok_or_else(invalid_user);
                    }

                    // Read, patch and write back under a row lock, so a
                    // concurrent update is neither lost nor mixed in.
                    let mut tx = sql::begin_write(&self.pool)
                        .await
                        .map_err(|err| self.fail("update_user", err))?;
                    let row = sqlx::query(sql::SELECT_USER_FOR_UPDATE)
                        .bind(user_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(|err| self.fail("update_user", err))?;
                    let Some(row) = row else {
                        return Err(invalid_user());
                    };
                    let stored = $crate::record::user_from_row(&row, 0)?;
                    let mut user = stored.clone();
                    patch.apply_to(&mut user);

                    // Only the columns whose value changes are written, so an
                    // attribute update does not touch the provider_id index.
                    let mut update = sqlx::QueryBuilder::<$db>::new("UPDATE users SET ");
                    let mut columns = update.separated(", ");
                    if user.provider_id != stored.provider_id {
                        columns.push("provider_id = ");
                        columns.push_bind_unseparated(user.provider_id.clone());
                    }
                    if user.hashed_password != stored.hashed_password {
                        columns.push("hashed_password = ");
                        columns.push_bind_unseparated(user.hashed_password.clone());
                    }
                    if user.attributes != stored.attributes {
                        columns.push("attributes = ");
                        columns.push_bind_unseparated($crate::record::attributes_to_text(&user.attributes));
                        columns.push_unseparated(sql::ATTRIBUTES_CAST);
                    }
                    if user == stored {
                        // Nothing changes, so the row read under the lock is returned.
                        tx.commit().await.map_err(|err| self.fail("update_user", err))?;
                        return Ok(user);
                    }
                    update.push(" WHERE id = ").push_bind(user_id);
                    let written = update.build().execute(&mut *tx).await;
                    if let Err(err) = written {
                        // The provider id is the only unique column an
                        // update changes, so any unique violation is one.
                        return Err(match error::CLASSIFIER.violation(&err) {
                            Some($crate::error::Violation::ProviderId | $crate::error::Violation::UnnamedUnique) => {
                                adapter_api::Error::DuplicateProviderId { provider_id: user.provider_id }
                            }
                            _ => self.fail("update_user", err),
                        });
                    }
                    tx.commit().await.map_err(|err| self.fail("update_user", err))?;
                    Ok(user)
                }
                .instrument(span)
                .await
            }

            async fn delete_user(&self, user_id: &str) -> adapter_api::Result<()> {
                if !Self::can_match(user_id) {
                    return Ok(());
                }
                let span = tracing::debug_span!("delete_user", backend = error::CLASSIFIER.backend, user_id);
                async {
                    // With both sides in this database, the foreign key's
                    // ON DELETE CASCADE removes the user's sessions too.
                    sqlx::query(sql::DELETE_USER)
                        .bind(user_id)
                        .execute(&self.pool)
                        .await
                        .map_err(|err| self.fail("delete_user", err))?;
                    Ok(())
                }
                .instrument(span)
                .await
            }
        }

        #[adapter_api::async_trait]
        impl adapter_api::SessionAdapter for $crate::SqlAdapter<$db> {
            // Session ids are bearer tokens, so no span carries one.

            async fn get_session(&self, session_id: &str) -> adapter_api::Result<Option<adapter_api::Session>> {
                if !Self::can_match(session_id) {
                    return Ok(None);
                }
                let span = tracing::debug_span!("get_session", backend = error::CLASSIFIER.backend);
                async {
                    let row = sqlx::query(sql::GET_SESSION)
                        .bind(session_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|err| self.fail("get_session", err))?;
                    row.map(|row| $crate::record::session_from_row(&row, 0)).transpose()
                }
                .instrument(span)
                .await
            }

            async fn get_sessions_by_user_id(&self, user_id: &str) -> adapter_api::Result<Vec<adapter_api::Session>> {
                if !Self::can_match(user_id) {
                    return Ok(Vec::new());
                }
                let span = tracing::debug_span!("get_sessions_by_user_id", backend = error::CLASSIFIER.backend, user_id);
                async {
                    let rows = sqlx::query(sql::GET_SESSIONS_BY_USER_ID)
                        .bind(user_id)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|err| self.fail("get_sessions_by_user_id", err))?;
                    rows.iter().map(|row| $crate::record::session_from_row(row, 0)).collect()
                }
                .instrument(span)
                .await
            }

            async fn set_session(&self, session: adapter_api::Session) -> adapter_api::Result<()> {
                adapter_api::validate::session(&session)?;
                let span = tracing::debug_span!("set_session", backend = error::CLASSIFIER.backend, user_id = %session.user_id);
                async {
                    let inserted = sqlx::query(sql::INSERT_SESSION)
                        .bind(&session.id)
                        .bind(&session.user_id)
                        .bind(session.expires)
                        .bind(session.idle_expires)
                        .execute(&self.pool)
                        .await;
                    let Err(err) = inserted else {
                        return Ok(());
                    };
                    Err(match error::CLASSIFIER.violation(&err) {
                        // The id is the only unique column of `sessions`.
                        Some($crate::error::Violation::PrimaryKey | $crate::error::Violation::UnnamedUnique) => {
                            adapter_api::Error::DuplicateSessionId { session_id: session.id.clone() }
                        }
                        Some($crate::error::Violation::ForeignKey) => {
                            adapter_api::Error::InvalidUserId { user_id: session.user_id.clone() }
                        }
                        _ => self.fail("set_session", err),
                    })
                }
                .instrument(span)
                .await
            }

            async fn update_session(&self, session_id: &str, expires: i64, idle_expires: i64) -> adapter_api::Result<adapter_api::Session> {
                adapter_api::validate::expiry(expires, idle_expires)?;
                if !Self::can_match(session_id) {
                    return Err(adapter_api::Error::InvalidSessionId { session_id: session_id.to_owned() });
                }
                let span = tracing::debug_span!("update_session", backend = error::CLASSIFIER.backend);
                async {
                    let row = sql::update_session(&self.pool, session_id, expires, idle_expires)
                        .await
                        .map_err(|err| self.fail("update_session", err))?;
                    match row {
                        Some(row) => $crate::record::session_from_row(&row, 0),
                        None => Err(adapter_api::Error::InvalidSessionId { session_id: session_id.to_owned() }),
                    }
                }
                .instrument(span)
                .await
            }

            async fn delete_sessions(&self, session_ids: &[String]) -> adapter_api::Result<()> {
                let session_ids: std::borrow::Cow<'_, [String]> = if session_ids.iter().all(|id| Self::can_match(id)) {
                    session_ids.into()
                } else {
                    session_ids.iter().filter(|id| Self::can_match(id)).cloned().collect()
                };
                if session_ids.is_empty() {
                    return Ok(());
                }
                let span = tracing::debug_span!("delete_sessions", backend = error::CLASSIFIER.backend, count = session_ids.len());
                async {
                    sql::delete_sessions(&self.pool, &session_ids)
                        .await
                        .map_err(|err| self.fail("delete_sessions", err))
                }
                .instrument(span)
                .await
            }

            async fn delete_sessions_by_user_id(&self, user_id: &str) -> adapter_api::Result<()> {
                if !Self::can_match(user_id) {
                    return Ok(());
                }
                let span = tracing::debug_span!("delete_sessions_by_user_id", backend = error::CLASSIFIER.backend, user_id);
                async {
                    sqlx::query(sql::DELETE_SESSIONS_BY_USER_ID)
                        .bind(user_id)
                        .execute(&self.pool)
                        .await
                        .map_err(|err| self.fail("delete_sessions_by_user_id", err))?;
                    Ok(())
                }
                .instrument(span)
                .await
            }

            async fn delete_expired_sessions(&self, now: i64) -> adapter_api::Result<u64> {
                let span = tracing::debug_span!("delete_expired_sessions", backend = error::CLASSIFIER.backend, now);
                async {
                    let done = sqlx::query(sql::DELETE_EXPIRED_SESSIONS)
                        .bind(now)
                        .execute(&self.pool)
                        .await
                        .map_err(|err| self.fail("delete_expired_sessions", err))?;
                    Ok(done.rows_affected())
                }
                .instrument(span)
                .await
            }

            fn checks_user_existence(&self) -> bool {
                // Only the layout with both tables has the foreign key.
                self.sides == $crate::Sides::Both
            }
        }

        #[adapter_api::async_trait]
        impl adapter_api::SessionAndUserAdapter for $crate::SqlAdapter<$db> {
            async fn get_session_and_user(
                &self,
                session_id: &str,
            ) -> adapter_api::Result<Option<(adapter_api::Session, adapter_api::User)>> {
                if !Self::can_match(session_id) {
                    return Ok(None);
                }
                let span = tracing::debug_span!("get_session_and_user", backend = error::CLASSIFIER.backend);
                async {
                    let row = sqlx::query(sql::GET_SESSION_AND_USER)
                        .bind(session_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|err| self.fail("get_session_and_user", err))?;
                    let Some(row) = row else {
                        return Ok(None);
                    };
                    let session = $crate::record::session_from_row(&row, 0)?;
                    let user = $crate::record::user_from_row(&row, 4)?;
                    Ok(Some((session, user)))
                }
                .instrument(span)
                .await
            }
        }
    };
}
