#!/usr/bin/env bash
# Secrets stay out of output and artifacts (issue 10, items 6 and 7):
# DBT_ENV_SECRET_* variables only in profiles.yml (as dbt), their values
# masked in the run's log; `source list --verbose` shows at most 4
# characters of a secret, none of a short one.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
secret=hunter2-s3cr3t-value
export DBT_ENV_SECRET_PASSWORD=$secret

test_expect_success 'env_var of a DBT_ENV_SECRET_ variable in a model fails, naming it and the file' '
    echo "select '"'"'{{ env_var(\"DBT_ENV_SECRET_PASSWORD\") }}'"'"' as pw" >dbt/models/leak.sql &&
    test_must_fail dango run >out 2>&1 &&
    test_grep "models/leak.sql:1:12: secret env var '"'"'DBT_ENV_SECRET_PASSWORD'"'"' is allowed only in profiles.yml and packages.yml, not in models/leak.sql" out &&
    ! grep -rq "$secret" out dbt/target .dango/logs data 2>/dev/null
'

test_expect_success 'also when a macro reads it for a model, and with a default' '
    rm dbt/models/leak.sql &&
    printf "{%% macro pw() %%}{{ env_var(\"DBT_ENV_SECRET_PASSWORD\", \"x\") }}{%% endmacro %%}\n" >dbt/macros/pw.sql &&
    echo "select '"'"'{{ pw() }}'"'"' as pw" >dbt/models/leak2.sql &&
    test_must_fail dango run >out 2>&1 &&
    test_grep "macros/pw.sql:1:.*secret env var '"'"'DBT_ENV_SECRET_PASSWORD'"'"' is allowed only in profiles.yml" out &&
    ! grep -rq "$secret" out dbt/target 2>/dev/null &&
    rm dbt/models/leak2.sql dbt/macros/pw.sql
'

test_expect_success 'profiles.yml may read it; the run works and nothing in target/ holds the value' '
    sed -i "s/^      threads: 4/      threads: 4\n      password: \"{{ env_var('"'"'DBT_ENV_SECRET_PASSWORD'"'"') }}\"/" .dango/profiles.yml &&
    test_grep DBT_ENV_SECRET_PASSWORD .dango/profiles.yml &&
    echo "select 1 as x" >dbt/models/m.sql &&
    dango run >out 2>&1 &&
    test_grep "Completed successfully" out &&
    test "$(q "SELECT x FROM main.m")" = 1 &&
    ! grep -rq "$secret" out dbt/target .dango/logs
'

test_expect_success 'a secret value in a log line is masked' '
    printf "{{ log(\"%s\" ~ \"-tail\", info=True) }}\nselect 1 as x\n" "hunter2-s3cr3t" >dbt/models/m.sql &&
    sed -i "s/hunter2-s3cr3t\"/hunter2-s3cr3t-value\"/" dbt/models/m.sql &&
    dango run >out 2>&1 &&
    test_grep "\*\*\*\*\*-tail" out &&
    ! grep -q "$secret" out
'

write_stripe() {
    cat >.dango/sources.yml <<-\EOF
	version: "1.0"
	sources:
	  - name: st
	    type: stripe
	    stripe:
	      stripe_secret_key_env: STRIPE_API_KEY
	EOF
}

test_expect_success 'source list --verbose shows the last 4 characters of a long secret and no more' '
    write_stripe &&
    STRIPE_API_KEY=sk_test_abcdefgh12349876 dango source list --verbose >out &&
    test_grep "stripe_secret_key_env: STRIPE_API_KEY (…9876)$" out &&
    ! grep -q "sk_t" out && ! grep -q "1234" out
'

test_expect_success 'a short secret shows nothing of itself' '
    for s in abc 12345678 123456789abcdef; do
        STRIPE_API_KEY=$s dango source list --verbose >out &&
        test_grep "stripe_secret_key_env: STRIPE_API_KEY (\*\*\*\*)$" out || return 1
    done
'

test_done
