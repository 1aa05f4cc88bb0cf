//! The record macros: CRUD (`create!`, `read!`, `update!`, `delete!` and the
//! `bulk_*!` kinds) and login (`login!`, `logout!`, `login_failed!`).
//!
//! Each macro makes one `tracing` event on the record's target at level
//! `INFO`, carrying the record body; the crate's layer turns it into one
//! JSON line. Keys after the required ones may come in any order; an
//! unknown key is a compile error.

/// Records a `CREATE` of one instance.
///
/// ```
/// # #[derive(serde::Serialize)] struct Product { id: u64, name: &'static str }
/// let product = Product { id: 42, name: "Lamp" };
/// tracing_audit::create!(model: "Product", id: product.id, instance: product);
/// ```
///
/// Keys: `model` and `id` (required, first, anything `Display`), then any
/// of `user` (`Display`, overrides the span's user), `user_info`,
/// `changes` (a [`Changes`](crate::Changes)), `instance` (a snapshot,
/// any `Serialize`), `extra` (any `Serialize`).
#[macro_export]
macro_rules! create {
    ($($args:tt)*) => { $crate::__crud!(Create; $($args)*) };
}

/// Records a `READ` of one instance. Keys as for [`create!`].
///
/// ```
/// tracing_audit::read!(model: "Invoice", id: "inv_2041", user: "7");
/// ```
#[macro_export]
macro_rules! read {
    ($($args:tt)*) => { $crate::__crud!(Read; $($args)*) };
}

/// Records an `UPDATE` of one instance, usually with its changes. Keys as
/// for [`create!`].
///
/// ```
/// use tracing_audit::diff;
/// # #[derive(serde::Serialize, Clone)] struct Product { price: f64 }
/// let before = Product { price: 10.99 };
/// let after = Product { price: 12.99 };
/// tracing_audit::update!(model: "Product", id: 42, changes: diff(&before, &after));
/// ```
#[macro_export]
macro_rules! update {
    ($($args:tt)*) => { $crate::__crud!(Update; $($args)*) };
}

/// Records a `DELETE` of one instance. Keys as for [`create!`].
///
/// ```
/// tracing_audit::delete!(model: "Product", id: 42, extra: serde_json::json!({"reason": "duplicate"}));
/// ```
#[macro_export]
macro_rules! delete {
    ($($args:tt)*) => { $crate::__crud!(Delete; $($args)*) };
}

/// Records a `BULK_CREATE`. Keys: `model` and `ids` (required, first; `ids`
/// is anything that serializes to a list), then as for [`create!`].
///
/// ```
/// tracing_audit::bulk_create!(model: "Product", ids: [1, 2, 3]);
/// ```
#[macro_export]
macro_rules! bulk_create {
    ($($args:tt)*) => { $crate::__bulk!(BulkCreate; $($args)*) };
}

/// Records a `BULK_UPDATE`. Keys as for [`bulk_create!`].
///
/// ```
/// use tracing_audit::Changes;
/// let changes = Changes::new().with("status", "draft", "published");
/// tracing_audit::bulk_update!(model: "Post", ids: vec!["p1", "p2"], changes: changes);
/// ```
#[macro_export]
macro_rules! bulk_update {
    ($($args:tt)*) => { $crate::__bulk!(BulkUpdate; $($args)*) };
}

/// Records a `BULK_DELETE`. Keys as for [`bulk_create!`].
///
/// ```
/// tracing_audit::bulk_delete!(model: "Session", ids: [7, 8]);
/// ```
#[macro_export]
macro_rules! bulk_delete {
    ($($args:tt)*) => { $crate::__bulk!(BulkDelete; $($args)*) };
}

/// Records a successful login.
///
/// Keys, all optional, any order: `user` (`Display`; without it the span's
/// user), `user_info`, `client_ip`, `user_agent`, `error` (`Display`),
/// `extra` (any `Serialize`).
///
/// ```
/// tracing_audit::login!(user: 7, client_ip: "203.0.113.9", user_agent: "curl/8.5");
/// ```
#[macro_export]
macro_rules! login {
    ($($args:tt)*) => { $crate::__login!(Login; $($args)*) };
}

/// Records a logout. Keys as for [`login!`].
///
/// ```
/// tracing_audit::logout!(user: 7);
/// ```
#[macro_export]
macro_rules! logout {
    ($($args:tt)*) => { $crate::__login!(Logout; $($args)*) };
}

/// Records a failed login. Keys as for [`login!`]; `user` is the name that
/// was tried.
///
/// ```
/// tracing_audit::login_failed!(user: "alice", error: "bad password", client_ip: "203.0.113.9");
/// ```
#[macro_export]
macro_rules! login_failed {
    ($($args:tt)*) => { $crate::__login!(FailedLogin; $($args)*) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __crud {
    ($kind:ident; model: $model:expr, id: $id:expr $(, $key:ident : $value:expr)* $(,)?) => {
        $crate::__emit!(
            "audit.crud",
            $crate::record::Crud::new($crate::record::EventType::$kind, &$model, &$id)
                $(.$key(&$value))*
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __bulk {
    ($kind:ident; model: $model:expr, ids: $ids:expr $(, $key:ident : $value:expr)* $(,)?) => {
        $crate::__emit!(
            "audit.crud",
            $crate::record::Crud::bulk($crate::record::EventType::$kind, &$model, &$ids)
                $(.$key(&$value))*
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __login {
    ($kind:ident; $($key:ident : $value:expr),* $(,)?) => {
        $crate::__emit!(
            "audit.login",
            $crate::record::Login::new($crate::record::LoginEvent::$kind) $(.$key(&$value))*
        )
    };
}

/// One `INFO` event on `$target` carrying the record body. The body is the
/// `match` scrutinee so that the temporaries it borrows (`&diff(..)`) live
/// until the event is made.
#[doc(hidden)]
#[macro_export]
macro_rules! __emit {
    ($target:literal, $record:expr) => {
        match $record {
            __audit_record => $crate::__private::tracing::event!(
                target: $target,
                $crate::__private::tracing::Level::INFO,
                audit = $crate::__private::tracing::field::debug(&__audit_record)
            ),
        }
    };
}
