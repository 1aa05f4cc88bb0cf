//! Passwords given to command-line tools under a short option that means
//! something else elsewhere: `-p` is a password for `mysql -pS3cret`,
//! `sshpass -p …` and `docker login -p …`, but a port for `ssh -p 22` and
//! a flag for `mkdir -p`. So the option counts only after the name of a
//! tool that takes a password with it, earlier in the same command.

use std::ops::Range;

/// A family of tools, the letter of its password option, and whether the
/// password may come as the next word (`-p S3cret`) as well as glued to
/// the letter (`-pS3cret`).
struct Tool {
    names: &'static [&'static str],
    letter: u8,
    spaced: bool,
}

/// The tools whose short option takes a password. MySQL's and MariaDB's
/// take it glued only: `mysql -p shop` asks for the password and opens
/// the database `shop`. `login` stands for `docker login`, `podman
/// login`, `helm registry login`, `oc login` and the like.
const TOOLS: &[Tool] = &[
    Tool {
        names: &[
            "mysql",
            "mysqldump",
            "mysqladmin",
            "mysqlimport",
            "mysqlcheck",
            "mysqlshow",
            "mysqlpump",
            "mysqlslap",
            "mysqlbinlog",
            "mariadb",
            "mariadb-dump",
            "mariadb-admin",
            "mariadb-import",
            "mariadb-check",
        ],
        letter: b'p',
        spaced: false,
    },
    Tool {
        names: &["sshpass", "login"],
        letter: b'p',
        spaced: true,
    },
    Tool {
        names: &[
            "mongo",
            "mongosh",
            "mongodump",
            "mongorestore",
            "mongoexport",
            "mongoimport",
            "mongostat",
            "mongotop",
        ],
        letter: b'p',
        spaced: true,
    },
    Tool {
        names: &["redis-cli", "keydb-cli"],
        letter: b'a',
        spaced: true,
    },
    Tool {
        names: &["sqlcmd", "bcp", "osql"],
        letter: b'P',
        spaced: true,
    },
    // OpenLDAP's tools: `-w` is the bind password.
    Tool {
        names: &[
            "ldapsearch",
            "ldapadd",
            "ldapmodify",
            "ldapdelete",
            "ldapmodrdn",
            "ldapcompare",
            "ldapwhoami",
            "ldappasswd",
            "ldapexop",
        ],
        letter: b'w',
        spaced: true,
    },
];

/// How far back the tool's name is looked for.
const REACH: usize = 256;

/// The tool of the command that the option at `at` belongs to, among
/// those taking a password under `letter`: a word of [`TOOLS`] before it
/// in the same command (not past a new line, `;`, `|` or `&`). Words are
/// split at spaces, quotes, brackets, commas and `/` (a path to the tool,
/// `Debug` of a `Command` or of a list of arguments).
fn tool_before(s: &[u8], at: usize, letter: u8) -> Option<&'static Tool> {
    if !TOOLS.iter().any(|t| t.letter == letter) {
        return None;
    }
    let low = at.saturating_sub(REACH);
    let from = s[low..at]
        .iter()
        .rposition(|&b| matches!(b, b'\n' | b'\r' | b';' | b'|' | b'&'))
        .map_or(low, |i| low + i + 1);
    s[from..at]
        .split(|&b| {
            b.is_ascii_whitespace()
                || matches!(
                    b,
                    b'"' | b'\'' | b'`' | b'[' | b']' | b'(' | b')' | b'{' | b'}' | b',' | b'/'
                )
        })
        .filter(|w| !w.is_empty())
        .find_map(|word| {
            let word = word
                .strip_suffix(b".exe")
                .or_else(|| word.strip_suffix(b".EXE"))
                .unwrap_or(word);
            TOOLS
                .iter()
                .find(|t| t.letter == letter && t.names.iter().any(|n| n.as_bytes() == word))
        })
}

/// At a `-` at `at` that starts a one-letter option with its value glued
/// (`-pS3cret`): that value, when the option is a tool's password option.
pub(super) fn glued_password(s: &[u8], at: usize, mask: &str) -> Option<Range<usize>> {
    let letter = *s.get(at + 1)?;
    let mut from = at + 2;
    // `"-p", "…"` in a list of arguments: the option's own closing quote.
    if at > 0 && matches!(s[at - 1], b'"' | b'\'') && s.get(from) == Some(&s[at - 1]) {
        return None;
    }
    // Quoted by the shell (`-p'S3 cret'`): up to the closing quote.
    let quote = s.get(from).filter(|&&b| b == b'"' || b == b'\'').copied();
    from += usize::from(quote.is_some());
    let len = s
        .get(from..)?
        .iter()
        .take_while(|&&b| match quote {
            Some(q) => b != q,
            None => !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\'' | b',' | b')' | b']'),
        })
        .count();
    if len == 0 || s[from..].starts_with(mask.as_bytes()) {
        return None;
    }
    tool_before(s, at, letter).map(|_| from..from + len)
}

/// Whether the one-letter option `option` at `at` takes a password as its
/// next word (`sshpass -p S3cret`, `docker login -p S3cret`).
pub(super) fn spaced_password(s: &[u8], at: usize, option: &str) -> bool {
    let [letter] = option.as_bytes() else {
        return false;
    };
    tool_before(s, at, *letter).is_some_and(|t| t.spaced)
}
