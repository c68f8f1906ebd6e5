#!/usr/bin/env bash
# Configuration: validation messages that point at file, line, column and key.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
printf "id,v\n1,a\n" >data/s.csv

write_sources() { cat >.dango/sources.yml; }

test_expect_success 'malformed YAML names the file, line and column' '
    write_sources <<-\EOF &&
	version: "1.0"
	sources:
	  - name: a
	    type: csv
	   csv: {path: x
	EOF
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "\.dango/sources.yml:[0-9]*:[0-9]*: invalid YAML" out
'

test_expect_success 'an unknown key in a block: line, column, source and suggestion' '
    write_sources <<-\EOF &&
	version: "1.0"
	sources:
	  - name: api
	    type: rest_api
	    rest_api:
	      base_url: https://example.com
	      endpionts:
	        - name: users
	EOF
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "✗ .dango/sources.yml:7:7: unknown key '"'"'endpionts'"'"' in source '"'"'api'"'"' (did you mean '"'"'endpoints'"'"'?)" out &&
    test_grep "missing required key '"'"'endpoints'"'"' in source '"'"'api'"'"'" out
'

test_expect_success 'unknown keys inside nested blocks are found too' '
    write_sources <<-\EOF &&
	sources:
	  - name: api
	    type: rest_api
	    rest_api:
	      base_url: https://example.com
	      endpoints:
	        - name: users
	          paginator: {type: cursor, cursor_pth: next}
	EOF
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "sources.yml:8:37: unknown key '"'"'cursor_pth'"'"' in source '"'"'api'"'"' (did you mean '"'"'cursor_path'"'"'?)" out
'

test_expect_success 'duplicate names, unknown types and bad names are each reported' '
    write_sources <<-\EOF &&
	sources:
	  - name: s
	    type: csv
	    csv: {path: data/s.csv}
	  - name: s
	    type: csv
	    csv: {path: data/s.csv}
	  - name: t
	    type: cvs
	  - name: Bad-Name
	    type: csv
	    csv: {path: data/s.csv}
	EOF
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "sources.yml:5:11: duplicate source name '"'"'s'"'"' (first defined at line 2)" out &&
    test_grep "sources.yml:9:11: unknown source type '"'"'cvs'"'"' in source '"'"'t'"'"' (did you mean '"'"'csv'"'"'?)" out &&
    test_grep "sources.yml:10:11: source name '"'"'Bad-Name'"'"' must be lowercase snake_case" out &&
    test_grep "^3 problems found.$" out
'

test_expect_success 'bad values: booleans, numbers, choices' '
    write_sources <<-\EOF &&
	sources:
	  - name: s
	    type: csv
	    enabled: maybe
	    lookback_days: soon
	    deduplication: latest
	    csv:
	      path: data/s.csv
	      header: 2
	      write_disposition: upsert
	EOF
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "4:14: '"'"'enabled'"'"' in source '"'"'s'"'"' must be true or false, not '"'"'maybe'"'"'" out &&
    test_grep "5:20: '"'"'lookback_days'"'"' in source '"'"'s'"'"' must be a whole number, not '"'"'soon'"'"'" out &&
    test_grep "6:20: invalid value '"'"'latest'"'"' for '"'"'deduplication'"'"' in source '"'"'s'"'"' (expected one of: latest_only, scd_type2, none) (did you mean '"'"'latest_only'"'"'?)" out &&
    test_grep "9:15: '"'"'header'"'"' in source '"'"'s'"'"' must be true or false" out &&
    test_grep "10:26: invalid value '"'"'upsert'"'"' for '"'"'write_disposition'"'"'" out
'

test_expect_success 'missing required keys and a block of another type' '
    write_sources <<-\EOF &&
	sources:
	  - type: csv
	    csv: {path: data/s.csv}
	  - name: s
	    type: csv
	    stripe: {}
	EOF
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "2:5: missing required key '"'"'name'"'"' in source #1" out &&
    test_grep "6:5: block '"'"'stripe'"'"' in source '"'"'s'"'"' does not match its type '"'"'csv'"'"'" out &&
    test_grep "source '"'"'s'"'"' needs either '"'"'path'"'"' or '"'"'directory'"'"'" out
'

test_expect_success 'a misspelt top-level key of an entry gets a suggestion' '
    write_sources <<-\EOF &&
	sources:
	  - name: s
	    type: csv
	    enabeld: true
	    csv: {path: data/s.csv}
	EOF
    test_expect_code 1 dango source list 2>err &&
    test_grep "4:5: unknown key '"'"'enabeld'"'"' in source '"'"'s'"'"' (did you mean '"'"'enabled'"'"'?)" err
'

test_expect_success 'project.yml is validated as well' '
    cp .dango/project.yml project.bak &&
    printf "name: p\nweb:\n  prot: 1\n" >.dango/project.yml &&
    test_expect_code 1 dango validate 2>err &&
    test_grep ".dango/project.yml:3:3: unknown key '"'"'prot'"'"' in project.yml (did you mean '"'"'port'"'"'?)" err &&
    cp project.bak .dango/project.yml
'

test_expect_success 'secrets come from the environment, .env or .dlt/secrets.toml, never printed' '
    write_sources <<-\EOF &&
	sources:
	  - name: st
	    type: stripe
	    stripe:
	      stripe_secret_key_env: STRIPE_API_KEY
	EOF
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "STRIPE_API_KEY is not set" out &&
    STRIPE_API_KEY=sk_test_fromenv12345 dango validate >out 2>&1 &&
    test_grep "source '"'"'st'"'"': ready" out && ! grep -q fromenv out &&
    echo "STRIPE_API_KEY=\"sk_test_fromdotenv9876\"" >>.env &&
    dango validate >out 2>&1 && ! grep -q fromdotenv out &&
    dango source list --verbose >out && test_grep "stripe_secret_key_env: STRIPE_API_KEY (…9876)" out &&
    ! grep -q fromdotenv out &&
    sed -i "/STRIPE_API_KEY=/d" .env &&
    mkdir -p .dlt && printf "[sources.stripe]\nstripe_api_key = \"sk_test_toml55556666\"\n" >.dlt/secrets.toml &&
    dango validate >out 2>&1 && ! grep -q toml5555 out
'

test_expect_success 'a malformed .env line is reported with its line' '
    printf "A=1\nthis is wrong\n" >>.env &&
    test_expect_code 1 dango validate 2>err &&
    test_grep "\.env:[0-9]*: expected NAME=value" err &&
    sed -i "/this is wrong/d" .env
'

test_expect_success 'validate checks the dbt project and its profile' '
    write_sources <<-\EOF &&
	sources: []
	EOF
    dango validate >out && test_grep "dbt/dbt_project.yml (project '"'"'p'"'"')" out &&
    sed -i "s/^profile: .*/profile: '"'"'other'"'"'/" dbt/dbt_project.yml &&
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "no profile '"'"'other'"'"'" out
'

test_expect_success 'validate parses the dbt models: Jinja errors, missing refs' '
    sed -i "s/^profile: .*/profile: '"'"'dango'"'"'/" dbt/dbt_project.yml &&
    echo "select 1 as x" >dbt/models/marts/good.sql &&
    dango validate >out 2>&1 && test_grep "✓ dbt project: 1 model and 0 tests parse" out &&
    echo "select * from {{ ref('"'"'nope'"'"') }}" >dbt/models/marts/bad.sql &&
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "✗ dbt project: model '"'"'bad'"'"' (models/marts/bad.sql) depends on a node named '"'"'nope'"'"' which was not found" out &&
    echo "select {{ oops( }}" >dbt/models/marts/bad.sql &&
    test_expect_code 1 dango validate >out 2>&1 &&
    test_grep "✗ dbt project: models/marts/bad.sql:1:17: unexpected '"'"'}'"'"', expected '"'"')'"'"'" out &&
    rm dbt/models/marts/bad.sql dbt/models/marts/good.sql
'

test_expect_success 'an empty sources.yml is a valid empty list' '
    : >.dango/sources.yml && dango source list >out && test_grep "No sources configured" out
'

test_done
