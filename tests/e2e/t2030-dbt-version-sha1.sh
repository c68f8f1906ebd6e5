#!/usr/bin/env bash
# require-dbt-version of the project and of its packages, checked against
# the dbt version Dango follows (and --no-version-check, flags:
# version_check, DBT_VERSION_CHECK); the hub's SHA-1 of a package tarball
# checked by dango deps
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/dbt_packages/helper/macros
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: x.duckdb\n' >profiles.yml
echo "select 1 as id" >p/models/a.sql
printf 'name: helper\nversion: "0.1.0"\n' >p/dbt_packages/helper/dbt_project.yml
norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //'; }

test_expect_success 'dango debug says which dbt version the checks use' '
    dango debug --project-dir p --profiles-dir . >out && norm <out >actual &&
    test_grep "^dbt version: 1.9.0 (what require-dbt-version is checked against)$" actual
'

test_expect_success 'a range the version satisfies runs, one constraint or a list, spaces allowed' '
    printf "name: p\nprofile: p\nrequire-dbt-version: [\">=1.3.0\", \"<2.0.0\"]\n" >p/dbt_project.yml &&
    printf "name: helper\nversion: \"0.1.0\"\nrequire-dbt-version: \">= 1.0.0\"\n" >p/dbt_packages/helper/dbt_project.yml &&
    dango run --project-dir p --profiles-dir . >out &&
    test_grep "OK created sql view model main.a" out
'

test_expect_success 'the root project out of range: dbt'"'"'s error, nothing built' '
    rm -f x.duckdb &&
    printf "name: p\nprofile: p\nrequire-dbt-version: \">=2.0.0\"\n" >p/dbt_project.yml &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "dbt_project.yml: this version of dbt is not supported with the .p. package." err &&
    test_grep "^  Installed version of dbt: =1.9.0 " err &&
    test_grep "^  Required version of dbt for .p.: \[.>=2.0.0.\]$" err &&
    test_grep "or run again with --no-version-check" err &&
    ! test -e x.duckdb
'

test_expect_success 'a package out of range names the package file' '
    printf "name: p\nprofile: p\n" >p/dbt_project.yml &&
    printf "name: helper\nversion: \"0.1.0\"\nrequire-dbt-version: [\">=1.0.0\", \"<1.5.0\"]\n" >p/dbt_packages/helper/dbt_project.yml &&
    test_expect_code 1 dango build --project-dir p --profiles-dir . >out 2>err &&
    test_grep "dbt_packages/helper/dbt_project.yml: this version of dbt is not supported with the .helper. package" err &&
    test_grep "Required version of dbt for .helper.: \[.>=1.0.0., .<1.5.0.\]$" err
'

test_expect_success '--no-version-check, DBT_VERSION_CHECK=false and flags: version_check: false skip it' '
    dango run --no-version-check --project-dir p --profiles-dir . >out &&
    test_grep "OK created sql view model main.a" out &&
    DBT_VERSION_CHECK=false dango run --project-dir p --profiles-dir . >out &&
    test_grep "OK created sql view model main.a" out &&
    printf "name: p\nprofile: p\nflags:\n  version_check: false\n" >p/dbt_project.yml &&
    dango run --project-dir p --profiles-dir . >out &&
    test_grep "OK created sql view model main.a" out
'

test_expect_success 'a constraint that is not a version is an error with its place' '
    printf "name: p\nprofile: p\nrequire-dbt-version: \"soon\"\n" >p/dbt_project.yml &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "dbt_project.yml:3:22: require-dbt-version: .soon. is not a version constraint" err
'

# the hub, with a tarball whose SHA-1 it gives right or wrong
mkdir -p hub/tarballs hub/api/v1/acme root/models
mkdir -p src/tool-0.1.0/macros
printf "name: tool\nversion: '0.1.0'\n" >src/tool-0.1.0/dbt_project.yml
echo "{% macro tool_v() %}1{% endmacro %}" >src/tool-0.1.0/macros/v.sql
tar -czf hub/tarballs/tool-0.1.0.tar.gz -C src tool-0.1.0
python3 "$SRC_DIR/tests/fixtures/static_server.py" hub port hub.log &
wait_for_file port || exit 1
HUB=http://127.0.0.1:$(cat port)
export DBT_PACKAGE_HUB_URL=$HUB/
hub_json() { # sha1
    printf '{"name": "tool", "namespace": "acme", "versions": {"0.1.0": {"name": "tool", "version": "0.1.0", "packages": [], "downloads": {"tarball": "%s/tarballs/tool-0.1.0.tar.gz", "format": "tgz", "sha1": "%s"}}}}\n' \
        "$HUB" "$1" >hub/api/v1/acme/tool.json
}
printf 'name: root\nprofile: p\n' >root/dbt_project.yml
printf "packages:\n  - package: acme/tool\n    version: 0.1.0\n" >root/packages.yml
SUM=$(sha1sum hub/tarballs/tool-0.1.0.tar.gz | cut -d" " -f1)

test_expect_success 'a tarball whose SHA-1 differs from the hub'"'"'s is an error, nothing installed' '
    hub_json 0123456789abcdef0123456789abcdef01234567 &&
    test_expect_code 1 dango deps --project-dir root >out 2>err &&
    test_grep "hub package .acme/tool. 0.1.0 (.*/tarballs/tool-0.1.0.tar.gz): the archive.s SHA-1 is $SUM but the package hub gives 0123456789abcdef0123456789abcdef01234567" err &&
    ! test -e root/dbt_packages/tool &&
    ! test -e root/package-lock.yml
'

test_expect_success 'the right SHA-1 (in either case) installs' '
    hub_json "$(echo $SUM | tr a-f A-F)" &&
    dango deps --project-dir root >out && norm <out >actual &&
    test_grep "^Installed tool 0.1.0 (acme/tool)$" actual &&
    test -f root/dbt_packages/tool/macros/v.sql
'

test_expect_success 'an installed lock fetches again through the same check' '
    rm -rf root/dbt_packages &&
    hub_json 0123456789abcdef0123456789abcdef01234567 &&
    test_expect_code 1 dango deps --project-dir root >out 2>err &&
    test_grep "SHA-1 is $SUM but the package hub gives" err &&
    ! test -e root/dbt_packages/tool
'

test_done
