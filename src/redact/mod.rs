//! One redaction policy for every record kind.
//!
//! A [`Policy`] decides four things:
//!
//! - which **keys** hold secrets: a JSON key (in a snapshot, a diff, `extra`,
//!   `user_info`, a body) or a field name. A key is cut into *segments* (at
//!   `_`, `-`, `.`, spaces and any other character that is not a letter or
//!   a digit, at camelCase humps, between letters and digits) and is secret
//!   when a run of its segments spells one of the policy's *words*:
//!   `api_key`, `X-Api-Key`, `apiKey` and `apikey` all spell `apikey`;
//!   `refreshToken` has `refresh` and `token`. A word also matches in the
//!   plural at the end of the key (`tokens`, `api_keys`). So `authorId` is
//!   not `auth`, `shipping` is not `pin`, `passenger` is not `pass`, and
//!   `sessions_count` is not `session` (a plural counts only at the end).
//!   Two default words count only as the *whole* key: `access` and
//!   `refresh`, the token pair of a JWT login (`{"access": …, "refresh":
//!   …}`); `access_level` and `refresh_rate` are audit data (their tokens,
//!   `access_token`, `refreshToken`, are secret by `token`).
//!   *Substrings* ([`Policy::with_key_substring`]) match anywhere in the key
//!   lower-cased without separators: the defaults catch long compounds
//!   written in one piece (`newpassword`, `accesstoken`);
//! - which **headers** are secret (`authorization`, `cookie`, …), by exact
//!   name, case-insensitively, besides the keys above;
//! - which **values** are secret wherever they appear, in any string of any
//!   record (messages, errors, user agents, ids, context values, snapshot
//!   values, `Debug` and `Display` output): `Bearer` and `Basic`
//!   credentials (`Basic` ones without their scheme too, as a value or a
//!   whole text: the base64 of printable `user:password`, not of JSON), JSON Web Tokens, the userinfo of URLs
//!   (`https://user:password@host`, and Oracle's
//!   `jdbc:oracle:thin:user/password@host`) and the token in the path of a webhook
//!   URL (Slack's `hooks.slack.com/services/…`, Discord's
//!   `/api/webhooks/…`, Microsoft Teams' `webhook.office.com/webhookb2/…`
//!   and `outlook.office.com/webhook/…`, Zapier's
//!   `hooks.zapier.com/hooks/catch/…`, IFTTT's `maker.ifttt.com/use/…`,
//!   Telegram's `api.telegram.org/bot<id>:<token>/…`, whose method
//!   stays), the one-time token of a password-reset, magic-link,
//!   verification, activation or invitation path (`/reset/[REDACTED]`,
//!   `/reset/MQ/[REDACTED]/`, `/magic/…`, `/verify-email/…`: the segment
//!   after the word, or the one after that, when it looks like a token:
//!   8 or more characters with a digit, or 16 or more mixed),
//!   tokens with a well-known prefix
//!   (`sk_live_`, `ghp_`, `AKIA`, … see the table below), PEM private keys,
//!   and payment card numbers (13 to 19 digits of a card brand's ranges,
//!   whole or in groups split by single spaces or dashes, passing the Luhn
//!   check; not right after a `+`, which starts a phone number: a 13-digit
//!   `+49…` number can pass both tests by chance). Only the secret part is replaced: `"Bearer [REDACTED]"`,
//!   `"https://[REDACTED]@db.internal/app"`, `"sk_live_[REDACTED]"`,
//!   `"paid with [REDACTED] today"`; and the value after a secret key
//!   inside text (`password=[REDACTED]`, see below), or inside an XML or
//!   HTML element named by one (`<password>[REDACTED]</password>`, its
//!   tag escaped too: `&lt;password&gt;`, `\u003cpassword\u003e`), or
//!   the `value` or `content` attribute of one named by its tag or a
//!   `key`, `name`, `id`, `type` or `property` attribute
//!   (`<add key="Password" value="[REDACTED]"/>`,
//!   `<input type="password" value="[REDACTED]">`). Each class can be
//!   turned off. Numbers (JSON numbers, integer fields) are not scanned;
//!   object keys are, as values (a token used as a map's key is written
//!   `"sk_live_[REDACTED]"`, a second one masked alike
//!   `"sk_live_[REDACTED] #2"`, so no key repeats);
//! - the **mask** put in their place (`"[REDACTED]"` by default).
//!
//! Under a secret key the whole value is replaced, and the key stays, so a
//! changed password shows as
//! `{"password":{"old":"[REDACTED]","new":"[REDACTED]"}}`.
//!
//! ```
//! use tracing_audit::redact::Policy;
//!
//! let policy = Policy::default()
//!     .with_key("pin")           // also redact `pin`, `card_pin`, `PIN` (not `shipping`)
//!     .with_key_substring("pw")  // and any key containing `pw`: `dbpw`, `pw2`
//!     .without_key("token")      // but keep `token_count` and friends
//!     .with_header("x-session");
//! assert!(policy.is_secret_key("card_PIN"));
//! assert!(!policy.is_secret_key("shipping"));
//! assert!(policy.is_secret_key("dbpw"));
//! assert!(!policy.is_secret_key("token_count"));
//! assert!(policy.is_secret_key("accessToken"), "by the substring `accesstoken`");
//! assert!(policy.is_secret_header("X-Session"));
//! assert_eq!(
//!     policy.redact_text("GET https://bob:hunter2@api.example.com with Bearer abc123xyz789"),
//!     "GET https://[REDACTED]@api.example.com with Bearer [REDACTED]",
//! );
//! assert!(policy.is_secret_value("card 4111 1111 1111 1111"));
//! assert_eq!(policy.redact_text("retry with password=hunter2"), "retry with password=[REDACTED]");
//! ```
//!
//! # Well-known prefixes
//!
//! The prefix is kept (it says what leaked), the rest of the token is
//! masked. A prefix counts only at the start of a word.
//!
//! | prefix | issuer | characters after it |
//! |---|---|---|
//! | `sk_live_`, `sk_test_`, `rk_live_`, `rk_test_`, `whsec_` | Stripe secret, restricted and webhook keys | 16 or more |
//! | `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_` | GitHub tokens | 20 or more |
//! | `glpat-`, `gldt-`, `glrt-`, `glptt-`, `gloas-`, `glcbt-`, `glimt-`, `glft-`, `glsoat-`, `glagent-`, `glffct-` | GitLab personal, deploy, runner, trigger, OAuth, job, mail, feed, service account, agent and feature flag tokens | 20 or more |
//! | `xoxb-`, `xoxp-`, `xoxa-`, `xoxs-`, `xoxr-`, `xoxe-`, `xapp-` | Slack tokens | 10 or more |
//! | `hvs.`, `hvb.`, `hvr.` | HashiCorp Vault tokens | 20 or more |
//! | `AKIA`, `ASIA` | AWS access key ids | exactly 16 capitals or digits |
//! | `AIza` | Google API key | 30 or more |
//! | `ya29.` | Google OAuth access token | 20 or more |
//! | `npm_` | npm access token | 30 or more |
//! | `pypi-` | PyPI API token | 50 or more |
//! | `hf_` | Hugging Face token | 30 or more |
//! | `sk-ant-`, `sk-proj-`, `sk-` | Anthropic and OpenAI keys | 20, 20 and 32 or more |
//! | `SG.` | SendGrid API key | 16 or more |
//! | `shpat_`, `shpss_`, `shpca_`, `shppa_` | Shopify tokens | 20 or more |
//! | `dop_v1_` | DigitalOcean token | 32 or more |
//! | `-----BEGIN … PRIVATE KEY-----` | a PEM private key | up to the `-----END` line, or the end of the text |
//! | `AGE-SECRET-KEY-1` | an age secret key | 50 or more capitals or digits |
//! | three characters, a digit, `Q~` | a Microsoft Entra ID (Azure AD) client secret, masked whole | 31 to 34 |
//! | `AUTH PLAIN `, `AUTH XOAUTH2 ` | SMTP credentials (base64 of `\0user\0password`, of a bearer token) | 4 or more base64 characters |
//!
//! "Characters" are ASCII letters, digits, `_` and `-` (and `.` for `SG.`
//! and `ya29.`).
//!
//! # Keys inside text
//!
//! A secret key written in text with its value is recognized too, and the
//! value masked: `password=hunter2` (a message, a query string:
//! `?access_token=[REDACTED]&state=1`), `password: hunter2`, JSON text
//! (`{"password":"[REDACTED]"}`) and `Debug` output
//! (`User { password: "[REDACTED]" }`), with spaces or tabs before the
//! separator too (`password = hunter2` in TOML or INI text,
//! `"password" : "…"`), and JSON text inside a JSON string
//! (`{\"password\":\"[REDACTED]\"}`), its key written with JSON
//! escapes too (`{"\u0070assword":"[REDACTED]"}`, as a JSON reader
//! sees it). A value in quotes is masked up to
//! its closing quote; a bare one up to a space or `,;&)]}<>`, or, for a
//! key after a `;` (a connection string: `Server=x;Password=my pw;`), up
//! to the next `;`; after
//! `Authorization: Bearer` the scheme stays. A value that is an object or
//! a list is masked whole, its brackets kept (`"passwords":[[REDACTED]]`),
//! and so is a `Debug` wrapper (`password: [REDACTED]` for
//! `Secret("…")`, `Some("…")` or `SecretBox { inner: "…" }`), and the
//! value of a `("secret key", "…")` pair (`Debug` of a header list).
//! In YAML, a block under a secret key is masked whole: a block scalar
//! (`password: |` and its indented lines) or the indented lines (or
//! list) after `password:` with nothing on its line.
//! A user option of a command line (`curl -u bob:[REDACTED]`, `--user`,
//! `-U`, `--proxy-user`) has the password after its `:` masked, on the
//! safe side: `sort -u a:b` is written `sort -u a:[REDACTED]`. A tool's
//! one-letter password option is masked after the tool's name in the
//! same command: `mysql -p[REDACTED]` (glued only, as MySQL takes it),
//! `sshpass -p [REDACTED]`, `docker login -p [REDACTED]` (any `login`),
//! `mongosh -p`, `redis-cli -a`, `sqlcmd -P`, OpenLDAP's `ldapsearch -w`
//! (and the other `ldap…` tools); `ssh -p 22` and `mkdir -p` stay. Samba's
//! `-U user%password` is read like `user:password`.
//! Percent-encoded text is read too: `%3Faccess_token%3D[REDACTED]%26state`
//! in a redirect URL, `Bearer%20[REDACTED]`, JSON text in a query
//! (`%22password%22%3A%22[REDACTED]%22`), a pair encoded twice
//! (`password%253D[REDACTED]`). This errs on the safe
//! side: prose such as `"invalid token: expired"` is written
//! `"invalid token: [REDACTED]"`; [`Policy::mask_key_value_pairs`] turns it
//! off.
//!
//! # Which names are secret, and which are not
//!
//! Secret by default (the table on [`Policy`] lists every word): what
//! logs in or stands for a login (passwords in any spelling, `pw`,
//! `passwort`, tokens, keys, sessions, cookies, signatures, anti-forgery
//! tokens: `_csrf`, `csrfmiddlewaretoken`), one-time and
//! recovery codes (`otp`, `totp`, `mfa_code`, `verification_code`,
//! `backup_codes`, `security_answer`, `code_verifier`), key material and
//! seed phrases (`privateKey`, `signing_key`, `mnemonic`, `seed_phrase`),
//! and what pays or identifies (`pin`, `cvv`, `card_number`, `ccnum`,
//! `ssn`, `social_security_number`).
//!
//! The private members of a JSON Web Key (`d`, `p`, `q`, `dp`, `dq`,
//! `qi`, `oth`, `k`) are secret in an object that has a `kty` member, and
//! in JSON or `Debug` text that has a `kty` key (a quoted base64url
//! value of 16 or more characters); the public
//! members (`n`, `e`, `x`, `y`, `crv`, `kid`) stay. Outside a key these
//! names are ordinary data (`{"d":"2024-01-01","p":2}`). They follow
//! [`Policy::mask_token_prefixes`], as PEM private keys do.
//!
//! OAuth's authorization `code` is secret next to `grant_type`,
//! `redirect_uri`, `code_verifier` or `state` (a token request, the
//! redirect that brings the code: `/cb?code=[REDACTED]&state=…`), in an
//! object, a form, a query, or anywhere in the same text; elsewhere `code` is an error's or a
//! product's (`?code=404` stays). `assertion`, `client_assertion` and
//! `SAMLResponse` are secret whole keys; `client_assertion_type` is not.
//!
//! Not secret by default, deliberately: `key` alone (a sort key, a
//! primary key), `salt`, `nonce`, `ticket`, `sid` as a part of a key
//! (`AccountSid`: `sid` alone and `connect.sid` are session cookies); connection strings and
//! database URLs (`dsn`, `database_url`, `connection_string`: their
//! passwords are masked by value, `postgres://[REDACTED]@db/app`,
//! `Password=[REDACTED];`, so the host stays in the trail); personal data
//! that is not a credential (`iban`, `account_number`, `tax_id`, `dob`);
//! and `creds`, an object whose members are checked one by one
//! (`{"creds":{"user":"bob","password":"[REDACTED]"}}`). Add any of
//! them with [`Policy::with_key`].
//!
//! # What is not recognized
//!
//! Secrets with no shape of their own and no key next to them (a password
//! alone in a sentence) are not found. Numbers are not scanned.

mod attributes;
mod cards;
mod commands;
mod context;
mod keys;
mod keyval;
mod memo;
mod prefixes;
mod scan;
pub(crate) mod user_info;
mod yaml;

pub(crate) use scan::{possible_from, TRIGGERS};

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use keys::{normalize, SegmentBuf};

/// The words a key is checked against by default (see the module docs).
const DEFAULT_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "passcode",
    "secret",
    "token",
    "jwt",
    "bearer",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "apikey",
    "accesskey",
    "privatekey",
    "accountkey",
    "session",
    "sessionid",
    "cookie",
    "signature",
    "otp",
    "pin",
    "creditcard",
    "cardnumber",
    "cvv",
    "cvc",
    "ssn",
    // Short forms and one-time codes (`db_pw`, `totp`, `hotp_seed`), and
    // a wallet's recovery phrase.
    "pw",
    "totp",
    "hotp",
    "mnemonic",
    // Anti-forgery tokens under their short names (`_csrf`, `xsrf`).
    "csrf",
    "xsrf",
];

/// The words that make a key secret by default only when they are the
/// whole key (or its plural): `access` and `refresh`, the token pair a JWT
/// login returns (`{"access": …, "refresh": …}`). As one segment among
/// others they name audit data (`access_level`, `refresh_rate`); their
/// tokens are caught by `token` (`access_token`) and `accesskey`.
///
/// `sig` is the signature of an Azure SAS URL (`&sig=…`).
///
/// `pincode` is a whole key (`PINCODE`; `pin_code` is secret by `pin`):
/// as a substring it would match `spin_code`.
///
/// `sid` is a session cookie's name (`sid`, Express's `connect.sid`) as a
/// whole key; as a segment it names identifiers (Twilio's `AccountSid`).
///
/// `assertion` and `client_assertion` are OAuth's (RFC 7521, 7523: a
/// signed JWT or SAML assertion that logs the client or user in), and
/// `SAMLResponse` a SAML login's; `client_assertion_type` names a type.
const DEFAULT_WHOLE_KEYS: &[&str] = &[
    "access",
    "refresh",
    "sig",
    "pincode",
    "sid",
    "assertion",
    "clientassertion",
    "samlresponse",
];

/// The substrings a key is checked against by default: compounds that are
/// secret even when written in one lower-case piece (`newpassword`,
/// `accesstoken`), and too long to occur by chance.
const DEFAULT_KEY_SUBSTRINGS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "apikey",
    "privatekey",
    "secretkey",
    "clientsecret",
    "accesstoken",
    "refreshtoken",
    "authtoken",
    "sessionid",
    "sessid",
    "csrftoken",
    "xsrftoken",
    // Django's form field.
    "csrfmiddlewaretoken",
    "connectsid",
    "apitoken",
    "credential",
    // Key material, whose values have no shape of their own.
    "encryptionkey",
    "masterkey",
    "signingkey",
    "hmackey",
    "sharedkey",
    "clientkey",
    // Vendor API key headers: Azure API Management, Azure Functions.
    "subscriptionkey",
    "functionskey",
    // One-time and recovery codes, answers that stand for a password,
    // glued or not (`mfa_code`, `2faCode`, `verification_code`,
    // `backup_codes`, `security_answer`), a PKCE verifier, a wallet's
    // seed phrase, an application's or a licence's key (Laravel's
    // `APP_KEY` encrypts its cookies).
    "mfacode",
    "2facode",
    "otpcode",
    "verificationcode",
    "onetimecode",
    "securitycode",
    "securityanswer",
    "recoverycode",
    "backupcode",
    "codeverifier",
    "seedphrase",
    "appkey",
    "licensekey",
    // Java's `keytool` (`-storepass`, `-srcstorepass`, `-keypass`).
    "storepass",
    "keypass",
    // Card and identity numbers under a glued name (`ccnum`, `cardNo`,
    // `PINCODE`, `social_security_number`).
    "ccnum",
    "ccnumber",
    "cardno",
    "socialsecurity",
    // `password` in other languages: German, French, Spanish,
    // Portuguese, Dutch.
    "passwort",
    "kennwort",
    "motdepasse",
    "contrasena",
    "contraseña",
    "senha",
    "wachtwoord",
];

/// The headers redacted by default.
const DEFAULT_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
    "x-csrf-token",
];

/// What secrets are replaced with by default.
pub const DEFAULT_MASK: &str = "[REDACTED]";

/// A redaction policy: secret keys, secret headers, secret values, and the
/// mask put in their place. See the [module docs](self).
///
/// | setting | default |
/// |---|---|
/// | key words | `password`, `passwd`, `pwd`, `pass`, `passphrase`, `passcode`, `secret`, `token`, `jwt`, `bearer`, `auth`, `authorization`, `credential`, `credentials`, `apikey`, `accesskey`, `privatekey`, `accountkey`, `session`, `sessionid`, `cookie`, `signature`, `otp`, `pin`, `creditcard`, `cardnumber`, `cvv`, `cvc`, `ssn`, `pw`, `totp`, `hotp`, `mnemonic`, `csrf`, `xsrf` |
/// | whole keys only | `access`, `refresh` (not `access_level`, `refresh_rate`), `sig`, `pincode`, `sid`, `assertion`, `client_assertion`, `SAMLResponse` |
/// | key substrings | `password`, `passwd`, `passphrase`, `apikey`, `privatekey`, `secretkey`, `clientsecret`, `accesstoken`, `refreshtoken`, `authtoken`, `sessionid`, `sessid`, `csrftoken`, `xsrftoken`, `csrfmiddlewaretoken`, `connectsid`, `apitoken`, `credential`, key material (`encryptionkey`, `masterkey`, `signingkey`, `hmackey`, `sharedkey`, `clientkey`, `subscriptionkey`, `functionskey`), codes (`mfacode`, `2facode`, `otpcode`, `verificationcode`, `onetimecode`, `securitycode`, `securityanswer`, `recoverycode`, `backupcode`, `codeverifier`, `seedphrase`), `appkey`, `licensekey`, `storepass`, `keypass`, card and identity numbers (`ccnum`, `ccnumber`, `cardno`, `socialsecurity`), `password` in other languages (`passwort`, `kennwort`, `motdepasse`, `contrasena`, `contraseña`, `senha`, `wachtwoord`) |
/// | headers | `authorization`, `proxy-authorization`, `cookie`, `set-cookie`, `x-api-key`, `x-auth-token`, `x-csrf-token` |
/// | values | `Bearer`/`Basic` credentials, JWTs, URL userinfo, well-known token prefixes, PEM private keys, card numbers, values after a secret key in text: all masked |
/// | mask | `"[REDACTED]"` |
#[derive(Clone)]
pub struct Policy {
    /// Names this policy's rules (new for every change to its keys,
    /// headers, value classes or mask), for the per-thread memos of
    /// answers.
    keys_id: u64,
    /// The length of the shortest word or substring (`usize::MAX` if none).
    shortest_key: usize,
    keys: Vec<String>,
    /// Words that are secret only as the whole key (`DEFAULT_WHOLE_KEYS`).
    whole_keys: Vec<String>,
    substrings: Vec<String>,
    headers: Vec<String>,
    /// The value classes scanned for (`scan::AUTH` …).
    values: u8,
    mask: String,
}

impl PartialEq for Policy {
    fn eq(&self, other: &Self) -> bool {
        self.keys == other.keys
            && self.whole_keys == other.whole_keys
            && self.substrings == other.substrings
            && self.headers == other.headers
            && self.values == other.values
            && self.mask == other.mask
    }
}

impl Eq for Policy {}

fn next_keys_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Default for Policy {
    fn default() -> Self {
        let owned = |list: &[&str]| list.iter().map(|k| k.to_string()).collect();
        Policy {
            keys_id: next_keys_id(),
            shortest_key: 0,
            keys: owned(DEFAULT_KEYS),
            whole_keys: owned(DEFAULT_WHOLE_KEYS),
            substrings: owned(DEFAULT_KEY_SUBSTRINGS),
            headers: owned(DEFAULT_HEADERS),
            values: scan::ALL,
            mask: DEFAULT_MASK.to_string(),
        }
        .keys_changed()
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |class| self.values & class != 0;
        f.debug_struct("Policy")
            .field("keys", &self.keys)
            .field("whole_keys", &self.whole_keys)
            .field("key_substrings", &self.substrings)
            .field("headers", &self.headers)
            .field("auth_credentials", &on(scan::AUTH))
            .field("jwts", &on(scan::JWT))
            .field("url_userinfo", &on(scan::URL))
            .field("token_prefixes", &on(scan::PREFIX))
            .field("card_numbers", &on(scan::CARD))
            .field("key_value_pairs", &on(scan::KEYVAL))
            .field("mask", &self.mask)
            .finish()
    }
}

impl Policy {
    /// A policy that redacts nothing. Use with care: secrets then reach the
    /// files.
    pub fn none() -> Self {
        Policy {
            keys_id: next_keys_id(),
            shortest_key: usize::MAX,
            keys: Vec::new(),
            whole_keys: Vec::new(),
            substrings: Vec::new(),
            headers: Vec::new(),
            values: 0,
            mask: DEFAULT_MASK.to_string(),
        }
    }

    /// Renames the key-word set (for the memo) and notes its shortest entry.
    fn keys_changed(mut self) -> Self {
        self.keys_id = next_keys_id();
        self.shortest_key = self
            .keys
            .iter()
            .chain(&self.whole_keys)
            .chain(&self.substrings)
            .map(String::len)
            .min()
            .unwrap_or(usize::MAX);
        self
    }

    /// Also treats keys that have `word` among their segments as secret
    /// (see the [module docs](self)): `with_key("pin")` masks `pin`,
    /// `card_pin` and `PIN`, not `shipping`. A word written with
    /// separators or humps (`"api_key"`, `"apiKey"`) is the same word.
    pub fn with_key(mut self, word: &str) -> Self {
        let word = normalize(word);
        if !word.is_empty() && !self.keys.contains(&word) {
            self.keys.push(word);
            return self.keys_changed();
        }
        self
    }

    /// Also treats keys that contain `part` anywhere (lower-cased, without
    /// separators) as secret: `with_key_substring("pin")` masks `shipping`
    /// too. For words that may be glued to others (`"dbpw"`).
    pub fn with_key_substring(mut self, part: &str) -> Self {
        let part = normalize(part);
        if !part.is_empty() && !self.substrings.contains(&part) {
            self.substrings.push(part);
            return self.keys_changed();
        }
        self
    }

    /// Stops treating `word` as secret, as a word, a whole key or a
    /// substring. Other words still apply: without `token`, `access_token`
    /// is still secret by the substring `accesstoken`.
    pub fn without_key(mut self, word: &str) -> Self {
        let word = normalize(word);
        self.keys.retain(|k| *k != word);
        self.whole_keys.retain(|k| *k != word);
        self.substrings.retain(|k| *k != word);
        self.keys_changed()
    }

    /// Also treats the header `name` as secret (case-insensitive).
    pub fn with_header(mut self, name: &str) -> Self {
        let name = name.to_ascii_lowercase();
        if !self.headers.contains(&name) {
            self.headers.push(name);
            self.keys_id = next_keys_id();
        }
        self
    }

    /// Stops treating the header `name` as secret.
    pub fn without_header(mut self, name: &str) -> Self {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|h| *h != name);
        self.keys_id = next_keys_id();
        self
    }

    fn values_switch(mut self, class: u8, on: bool) -> Self {
        if on {
            self.values |= class;
        } else {
            self.values &= !class;
        }
        self.keys_id = next_keys_id();
        self
    }

    /// Whether card numbers are masked in every string (default on).
    pub fn mask_card_numbers(self, on: bool) -> Self {
        self.values_switch(scan::CARD, on)
    }

    /// Whether `Bearer …` and `Basic …` credentials are masked in every
    /// string (default on).
    pub fn mask_auth_credentials(self, on: bool) -> Self {
        self.values_switch(scan::AUTH, on)
    }

    /// Whether JSON Web Tokens are masked in every string (default on).
    pub fn mask_jwts(self, on: bool) -> Self {
        self.values_switch(scan::JWT, on)
    }

    /// Whether the userinfo of URLs (`user:password@`) and the token in the
    /// path of a webhook URL (see the [module docs](self)) are masked in
    /// every string (default on).
    pub fn mask_url_userinfo(self, on: bool) -> Self {
        self.values_switch(scan::URL, on)
    }

    /// Whether tokens with a [well-known prefix](self#well-known-prefixes)
    /// and PEM private keys are masked in every string (default on).
    pub fn mask_token_prefixes(self, on: bool) -> Self {
        self.values_switch(scan::PREFIX, on)
    }

    /// Whether the value after a secret key inside text is masked
    /// (`password=hunter2`, `?access_token=…`, `"password":"…"` in JSON
    /// text, `password: "…"` in `Debug` output; default on).
    pub fn mask_key_value_pairs(self, on: bool) -> Self {
        self.values_switch(scan::KEYVAL, on)
    }

    /// What a secret is replaced with (default `"[REDACTED]"`).
    pub fn mask_with(mut self, mask: impl Into<String>) -> Self {
        self.mask = mask.into();
        self.keys_id = next_keys_id();
        self
    }

    /// The mask.
    pub fn mask(&self) -> &str {
        &self.mask
    }

    /// Whether a value under the key `key` is secret.
    pub fn is_secret_key(&self, key: &str) -> bool {
        // No word fits in a shorter key (`id`); lower-casing keeps the
        // length of ASCII text.
        if self.shortest_key == usize::MAX || (key.len() < self.shortest_key && key.is_ascii()) {
            return false;
        }
        // Records repeat the same few keys: remember the last answers.
        if let Some(answer) = KEY_MEMO.with(|m| m.get(self.keys_id, key)) {
            return answer;
        }
        let answer = self.check_key(key);
        KEY_MEMO.with(|m| m.put(self.keys_id, key, answer));
        answer
    }

    fn check_key(&self, key: &str) -> bool {
        let mut buf = SegmentBuf::new();
        let segments = buf.segments(key);
        self.keys.iter().any(|w| segments.has_word(w.as_bytes()))
            || self
                .whole_keys
                .iter()
                .any(|w| segments.is_whole_word(w.as_bytes()))
            || self
                .substrings
                .iter()
                .any(|p| segments.has_substring(p.as_bytes()))
    }

    /// The members of an object secret by their neighbours, the object's
    /// keys being `keys`: the private members of a
    /// JSON Web Key (`d`, `p`, `k` … next to `kty`, with
    /// [`Policy::mask_token_prefixes`], as PEM private keys), OAuth's
    /// authorization `code` (next to `grant_type`, `redirect_uri`,
    /// `code_verifier` or `state`, with any key masked at all).
    pub(crate) fn secret_members<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> context::Secret {
        let mut found = context::secret_members(keys);
        if self.values & scan::PREFIX == 0 {
            found = context::Secret::without_jwk(found);
        }
        if self.keys.is_empty() {
            found = context::Secret::without_oauth(found);
        }
        found
    }

    /// Whether the header `name` is secret.
    pub fn is_secret_header(&self, name: &str) -> bool {
        // Records repeat the same few header names: remember the last
        // answers (by the policy's rules, which a change of its headers
        // renames too).
        if let Some(answer) = HEADER_MEMO.with(|m| m.get(self.keys_id, name)) {
            return answer;
        }
        let answer =
            self.headers.iter().any(|h| h.eq_ignore_ascii_case(name)) || self.is_secret_key(name);
        HEADER_MEMO.with(|m| m.put(self.keys_id, name, answer));
        answer
    }

    /// Whether `value` holds a secret value anywhere in it (see the
    /// [module docs](self)): `"card 4111 1111 1111 1111"` does.
    pub fn is_secret_value(&self, value: &str) -> bool {
        self.first_secret(value).is_some()
    }

    /// `text` with every secret value in it replaced by the mask; borrowed
    /// when there is none.
    pub fn redact_text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match self.first_secret(text) {
            None => Cow::Borrowed(text),
            Some(first) => Cow::Owned(self.redact_from(text, first)),
        }
    }

    /// Where the first secret value of `text` is, if it has one.
    pub(crate) fn first_secret(&self, text: &str) -> Option<Range<usize>> {
        // Most keys and field names (`id`, `user_id`) are too short to
        // hold any secret value: no pass, no memo.
        if scan::too_short_for_a_secret(text.as_bytes()) {
            return None;
        }
        self.first_secret_among(text, scan::possible(text.as_bytes()))
    }

    /// [`Policy::first_secret`] for a text whose possible classes (see
    /// [`possible_from`]) the caller found in a pass of its own.
    pub(crate) fn first_secret_among(&self, text: &str, possible: u8) -> Option<Range<usize>> {
        // `Ym9iOmh1bnRlcjI=` alone: `Basic` credentials without their
        // scheme, which may hold no trigger at all.
        if self.values & scan::AUTH != 0 {
            if let Some(whole) = scan::whole_bare_basic(text.as_bytes()) {
                return Some(whole);
            }
        }
        let classes = possible & self.values;
        if classes == 0 {
            return None;
        }
        // Records repeat the same values: those found clean are
        // remembered (by the policy's rules and the whole text).
        if CLEAN_MEMO.with(|m| m.get(self.keys_id, text)).is_some() {
            return None;
        }
        // A text the crate made itself (a request id it generated) holds
        // no secret; remembered, so its echo in a header is not scanned
        // either.
        if MADE_HERE.with(|m| m.is(text)) {
            CLEAN_MEMO.with(|m| m.put(self.keys_id, text, true));
            return None;
        }
        let found = scan::next_of(
            text.as_bytes(),
            0,
            classes,
            &|k| self.is_secret_key(k),
            &self.mask,
        );
        if found.is_none() {
            CLEAN_MEMO.with(|m| m.put(self.keys_id, text, true));
        }
        found
    }

    /// `text` redacted, its first secret being at `first`.
    pub(crate) fn redact_from(&self, text: &str, first: Range<usize>) -> String {
        let mut out = String::with_capacity(text.len() + self.mask.len());
        let mut last = 0;
        let mut next = Some(first);
        // The classes the whole text may hold, found once: asking again
        // for each rest of the text made a text of many secrets quadratic.
        let classes = scan::possible(text.as_bytes()) & self.values;
        while let Some(range) = next {
            out.push_str(&text[last..range.start]);
            out.push_str(&self.mask);
            last = range.end;
            next = scan::next_of(
                text.as_bytes(),
                range.end,
                classes,
                &|k| self.is_secret_key(k),
                &self.mask,
            );
        }
        out.push_str(&text[last..]);
        out
    }

    /// Redacts the secret values of `text` in place.
    pub(crate) fn redact_in_place(&self, text: &mut String) {
        if let Some(first) = self.first_secret(text) {
            *text = self.redact_from(text, first);
        }
    }
}

thread_local! {
    /// [`Policy::is_secret_key`] answers: a request record alone checks
    /// some twenty keys (header names, query, body and record keys).
    static KEY_MEMO: memo::Memo<64, 24> = const { memo::Memo::new() };
    /// [`Policy::is_secret_header`] answers.
    static HEADER_MEMO: memo::Memo<32, 24> = const { memo::Memo::new() };
    /// Texts [`Policy::first_secret`] found clean although they hold
    /// triggers of the scan: header values, request ids, `host:port`.
    static CLEAN_MEMO: memo::Memo<64, 64> = const { memo::Memo::new() };
    /// The text [`made_here`] vouches for, while it runs.
    static MADE_HERE: memo::Made = const { memo::Made::new() };
}

/// Runs `f` (which records `text` somewhere, a span field say) with the
/// value scan told that `text`, compared byte for byte, is a value the
/// crate made itself (a request id it generated: hex digits and hyphens,
/// no secret), so it is not scanned. Never for text that came from
/// outside: that is always scanned.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn made_here<R>(text: &str, f: impl FnOnce() -> R) -> R {
    /// Restores what was vouched for before, even on unwind.
    struct Restore((usize, [u8; 64]));
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = MADE_HERE.try_with(|m| m.restore(self.0));
        }
    }
    let _restore = MADE_HERE.try_with(|m| m.vouch(text)).map(Restore).ok();
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_of_an_element_named_by_a_secret_key_is_masked() {
        let p = Policy::default();
        for (text, want) in [
            (
                "<login><user>bob</user><password>hunter2</password></login>",
                "<login><user>bob</user><password>[REDACTED]</password></login>",
            ),
            (
                r#"<s:Body><ns:api_key type="x">k-123</ns:api_key></s:Body>"#,
                r#"<s:Body><ns:api_key type="x">[REDACTED]</ns:api_key></s:Body>"#,
            ),
            ("<token>abc", "<token>[REDACTED]"),
            // Closing, empty and self-closing tags, other names: kept.
            (
                "<password/><password></password>x",
                "<password/><password></password>x",
            ),
            ("<passenger>bob</passenger>", "<passenger>bob</passenger>"),
            ("a > b and <b>bold</b>", "a > b and <b>bold</b>"),
        ] {
            assert_eq!(p.redact_text(text), want, "{text}");
        }
    }

    #[test]
    fn only_the_text_made_here_passes_unscanned_and_only_meanwhile() {
        let p = Policy::default();
        // Digits that pass for a card number: found by the scan.
        let made = "4111 1111 1111 1111";
        let other = "5500 0000 0000 0004";
        assert!(p.first_secret(other).is_some());
        redact_made_here_checks(&p, made, other);
        // A text vouched for no longer: scanned again.
        assert!(p.first_secret("4012 8888 8888 1881").is_some());
        assert!(p.first_secret(other).is_some());
    }

    fn redact_made_here_checks(p: &Policy, made: &str, other: &str) {
        made_here(made, || {
            assert_eq!(p.first_secret(made), None);
            // Anything else is scanned as ever, a longer text too.
            assert!(p.first_secret(other).is_some());
            assert!(p.first_secret(&format!("{made} ")).is_some());
            // Nested: the inner text only, then the outer one again.
            made_here(other, || {
                assert!(p.first_secret("4012 8888 8888 1881").is_some())
            });
        });
    }

    #[test]
    fn default_keys_match_common_spellings() {
        let p = Policy::default();
        for key in [
            "password",
            "Password",
            "new_password",
            "newpassword",
            "userPassword",
            "password2",
            "passwd",
            "pwd",
            "pass",
            "passphrase",
            "api_key",
            "X-Api-Key",
            "apiKey",
            "apikey",
            "access_token",
            "accessToken",
            "accesstoken",
            "refresh",
            "refreshToken",
            "client_secret",
            "secret_key",
            "privateKey",
            "set-cookie",
            "sessionid",
            "session_id",
            "jwt",
            "bearer",
            "auth",
            "auth_header",
            "credentials",
            "otp",
            "pin",
            "card_PIN",
            "signature",
            "x-hub-signature",
            "credit_card",
            "authorization",
            "pässword_token",
            "tokens",
        ] {
            assert!(p.is_secret_key(key), "{key} should be secret");
        }
        for key in [
            "email",
            "name",
            "price",
            "id",
            "user_id",
            "authorId",
            "author",
            "shipping",
            "passenger",
            "sessions_count",
            "compass",
            "spinner",
            "opinion",
            "passage",
        ] {
            assert!(!p.is_secret_key(key), "{key} should not be secret");
        }
    }

    #[test]
    fn substrings_match_anywhere() {
        let p = Policy::default().with_key_substring("pin");
        assert!(p.is_secret_key("shipping"));
        let p = p.without_key("pin");
        assert!(!p.is_secret_key("shipping"));
        assert!(!p.is_secret_key("pin"));
    }

    #[test]
    fn card_numbers_need_a_valid_luhn_sum() {
        let p = Policy::default();
        assert!(p.is_secret_value("4111111111111111"));
        assert!(p.is_secret_value("4111-1111-1111-1111"));
        assert!(p.is_secret_value("5500 0000 0000 0004"));
        assert!(p.is_secret_value("378282246310005"), "Amex");
        assert!(p.is_secret_value("6011111111111117"), "Discover");
        assert!(
            !p.is_secret_value("1234567890123452"),
            "Luhn-valid, but no card brand starts with 1"
        );
        assert!(!p.is_secret_value("4111111111111112"), "bad checksum");
        assert!(!p.is_secret_value("1234"));
        assert!(p.is_secret_value("order 4111111111111111"));
        assert!(!p.is_secret_value("4111--1111111111111"));
        assert!(!Policy::default()
            .mask_card_numbers(false)
            .is_secret_value("4111111111111111"));
    }

    #[test]
    fn each_value_class_can_be_turned_off() {
        type Off = fn(Policy) -> Policy;
        let cases: [(&str, Off); 7] = [
            ("Bearer abc123def456", |p| p.mask_auth_credentials(false)),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", |p| {
                p.mask_jwts(false)
            }),
            ("https://u:p@h.io", |p| p.mask_url_userinfo(false)),
            ("next=https%3A%2F%2Fu%3Ap%40h.io", |p| {
                p.mask_url_userinfo(false)
            }),
            ("https://hooks.slack.com/services/T0/B0/x1y2z3", |p| {
                p.mask_url_userinfo(false)
            }),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", |p| {
                p.mask_token_prefixes(false)
            }),
            ("4111111111111111", |p| p.mask_card_numbers(false)),
        ];
        for (text, off) in cases {
            assert!(Policy::default().is_secret_value(text), "{text}");
            assert!(!off(Policy::default()).is_secret_value(text), "{text}");
            assert!(!Policy::none().is_secret_value(text), "{text}");
        }
    }

    #[test]
    fn redact_text_keeps_what_is_around_each_secret() {
        let p = Policy::default().mask_with("***");
        assert_eq!(
            p.redact_text("card 4111111111111111, key sk_live_4eC39HqLyjWDarjtT1zdp7dc."),
            "card ***, key sk_live_***."
        );
        assert!(matches!(p.redact_text("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn headers_are_matched_case_insensitively() {
        let p = Policy::default();
        assert!(p.is_secret_header("Authorization"));
        assert!(p.is_secret_header("Authorization"), "from the memo");
        let p = p
            .without_header("authorization")
            .without_key("authorization");
        assert!(!p.is_secret_header("Authorization"), "after a change");
        let p = p.with_header("x-colour");
        assert!(p.is_secret_header("X-Colour"));
        let p = p.without_header("x-colour");
        assert!(!p.is_secret_header("X-Colour"));
        let p = Policy::default();
        assert!(p.is_secret_header("set-cookie"));
        assert!(!p.is_secret_header("content-type"));
        assert!(!Policy::none().is_secret_header("authorization"));
    }

    #[test]
    fn remembered_answers_follow_changes_to_the_policy() {
        let p = Policy::default().without_key("pin");
        assert!(!p.is_secret_key("pin"));
        assert!(!p.is_secret_key("pin"), "from the memo");
        let p = p.with_key("pin");
        assert!(p.is_secret_key("pin"));
        let p = p.without_key("pin");
        assert!(!p.is_secret_key("pin"));
        assert!(p.clone().is_secret_key("password"));
        assert!(!Policy::none().is_secret_key("password"));
    }

    #[test]
    fn long_keys_are_checked_too() {
        let key = format!("{}_password", "x".repeat(100));
        assert!(Policy::default().is_secret_key(&key));
        let key = format!("{}password", "x".repeat(100));
        assert!(Policy::default().is_secret_key(&key), "by substring");
    }
}
