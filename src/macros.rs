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
/// Keys: `model` and `id` (required, first, in this order; `id` is
/// anything `Display`, or an `Option` of it), then any of `user`
/// (`Display`, overrides the span's user), `user_info`, `changes` (a
/// [`Changes`](crate::Changes)), `instance` (a snapshot, any `Serialize`),
/// `extra` (any `Serialize`). A mistake in the keys is a compile error
/// that lists the allowed ones.
///
/// An `id` of `None` (an instance the database has not numbered yet)
/// still writes `instance_id`, which every CRUD record has (see
/// [`schema`](crate::schema)), as `""`, and leaves the id out of the
/// message (`"CREATE event for Product"`):
///
/// ```
/// # #[derive(serde::Serialize)] struct Product { id: Option<u64>, name: &'static str }
/// let draft = Product { id: None, name: "Lamp" };
/// tracing_audit::create!(model: "Product", id: draft.id, instance: draft);
/// tracing_audit::create!(model: "Product", id: None, extra: "no id yet");
/// tracing_audit::read!(model: "Product", id: Some(42));
/// ```
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
    // A bare `None` has no type to infer: no id.
    ($kind:ident; model: $model:expr, id: None $(, $($rest:tt)*)?) => {
        $crate::__emit!(
            "audit.crud",
            $crate::__keys!(
                crud
                ($crate::record::Crud::new($crate::record::EventType::$kind, &$model, None))
                $($($rest)*)?
            )
        )
    };
    ($kind:ident; model: $model:expr, id: $id:expr $(, $($rest:tt)*)?) => {
        match $crate::record::IdArg(&$id) {
            __audit_id => {
                #[allow(unused_imports)]
                use $crate::record::IdDisplay as _;
                $crate::__emit!(
                    "audit.crud",
                    $crate::__keys!(
                        crud
                        ($crate::record::Crud::new(
                            $crate::record::EventType::$kind,
                            &$model,
                            __audit_id.id(),
                        ))
                        $($($rest)*)?
                    )
                )
            }
        }
    };
    ($kind:ident; model: $model:expr, ids: $($rest:tt)*) => {
        ::core::compile_error!(
            "`ids:` is for bulk_create!, bulk_update! and bulk_delete!; create!, read!, update! and delete! take `id:`"
        )
    };
    ($kind:ident; $($rest:tt)*) => {
        ::core::compile_error!(
            "create!, read!, update! and delete! start with `model: <expr>, id: <expr>` (in this order), then any of the keys: user, user_info, changes, instance, extra"
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __bulk {
    ($kind:ident; model: $model:expr, ids: $ids:expr $(, $($rest:tt)*)?) => {
        $crate::__emit!(
            "audit.crud",
            $crate::__keys!(
                bulk
                ($crate::record::Crud::bulk($crate::record::EventType::$kind, &$model, &$ids))
                $($($rest)*)?
            )
        )
    };
    ($kind:ident; model: $model:expr, id: $($rest:tt)*) => {
        ::core::compile_error!(
            "bulk_create!, bulk_update! and bulk_delete! take `ids:` (a list), not `id:`"
        )
    };
    ($kind:ident; $($rest:tt)*) => {
        ::core::compile_error!(
            "bulk_create!, bulk_update! and bulk_delete! start with `model: <expr>, ids: <expr>` (in this order), then any of the keys: user, user_info, changes, instance, extra"
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __login {
    ($kind:ident; $($rest:tt)*) => {
        $crate::__emit!(
            "audit.login",
            $crate::__keys!(
                login
                ($crate::record::Login::new($crate::record::LoginEvent::$kind))
                $($rest)*
            )
        )
    };
}

/// Applies the optional keys one at a time to the record body `$r`,
/// checking each name: an unknown key is a `compile_error!` that lists the
/// allowed ones, not a missing method on a hidden type.
#[doc(hidden)]
#[macro_export]
macro_rules! __keys {
    // Done.
    ($group:ident ($r:expr)) => { $r };
    ($group:ident ($r:expr) ,) => { $r };
    // Keys every group has.
    ($group:ident ($r:expr) user: $v:expr $(, $($rest:tt)*)?) => {
        $crate::__keys!($group ($r.user(&$v)) $($($rest)*)?)
    };
    ($group:ident ($r:expr) user_info: $v:expr $(, $($rest:tt)*)?) => {
        $crate::__keys!($group ($r.user_info(&$v)) $($($rest)*)?)
    };
    ($group:ident ($r:expr) extra: $v:expr $(, $($rest:tt)*)?) => {
        $crate::__keys!($group ($r.extra(&$v)) $($($rest)*)?)
    };
    // CRUD keys.
    (crud ($r:expr) changes: $v:expr $(, $($rest:tt)*)?) => {
        $crate::__keys!(crud ($r.changes(&$v)) $($($rest)*)?)
    };
    (crud ($r:expr) instance: $v:expr $(, $($rest:tt)*)?) => {
        $crate::__keys!(crud ($r.instance(&$v)) $($($rest)*)?)
    };
    (bulk ($r:expr) changes: $v:expr $(, $($rest:tt)*)?) => {
        $crate::__keys!(bulk ($r.changes(&$v)) $($($rest)*)?)
    };
    (bulk ($r:expr) instance: $v:expr $(, $($rest:tt)*)?) => {
        $crate::__keys!(bulk ($r.instance(&$v)) $($($rest)*)?)
    };
    // Login keys.
    (login ($r:expr) client_ip: $v:expr $(, $($rest:tt)*)?) => {
        $crate::__keys!(login ($r.client_ip(&$v)) $($($rest)*)?)
    };
    (login ($r:expr) user_agent: $v:expr $(, $($rest:tt)*)?) => {
        $crate::__keys!(login ($r.user_agent(&$v)) $($($rest)*)?)
    };
    (login ($r:expr) error: $v:expr $(, $($rest:tt)*)?) => {
        $crate::__keys!(login ($r.error(&$v)) $($($rest)*)?)
    };
    // Mistakes.
    (crud ($r:expr) $key:ident $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "unknown or misplaced key `", ::core::stringify!($key),
            "`: after `model:` and `id:`, create!, read!, update! and delete! take any of the keys: user, user_info, changes, instance, extra"
        ))
    };
    (bulk ($r:expr) $key:ident $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "unknown or misplaced key `", ::core::stringify!($key),
            "`: after `model:` and `ids:`, bulk_create!, bulk_update! and bulk_delete! take any of the keys: user, user_info, changes, instance, extra"
        ))
    };
    (login ($r:expr) $key:ident $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "unknown key `", ::core::stringify!($key),
            "`: login!, logout! and login_failed! take any of the keys: user, user_info, client_ip, user_agent, error, extra"
        ))
    };
    ($group:ident ($r:expr) $($rest:tt)*) => {
        ::core::compile_error!(
            "record macros take `key: value` pairs separated by commas"
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
