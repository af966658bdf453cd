//! The conformance suite on MySQL or MariaDB (`MYSQL_URL`, by default
//! `mysql://root@127.0.0.1:3306/test`), both sides in one database.

use conformance_runner::backends::sql::SqlBackend;

mod both {
    use super::SqlBackend;

    adapter_conformance::conformance_tests!(SqlBackend::mysql_from_env());
}
