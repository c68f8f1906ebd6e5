#!/usr/bin/env bash
# dango deps beyond local and git: hub packages with version ranges resolved
# through an imitation of the dbt hub's JSON API on loopback, transitive
# dependencies, version conflicts, tarballs, package-lock.yml, env_var() in
# entries, and an install that fails leaving dbt_packages/ as it was
. "$(dirname "$0")/lib.sh"

# a package version as GitHub's tarballs have it: one folder inside
make_pkg_tarball() { # name version out.tar.gz [packages.yml text]
    local dir=src-$1-$2
    mkdir -p "$dir/$1-$2/macros"
    printf "name: %s\nversion: '%s'\nmacro-paths: [macros]\n" "$1" "$2" >"$dir/$1-$2/dbt_project.yml"
    printf "{%% macro version_of_%s() %%}'%s'{%% endmacro %%}\n" "$1" "$2" >"$dir/$1-$2/macros/v.sql"
    [ -z "${4:-}" ] || printf '%s\n' "$4" >"$dir/$1-$2/packages.yml"
    tar -czf "$3" -C "$dir" "$1-$2"
}
# the hub's answer for a package: versions with their tarball and dependencies
hub_json() { # namespace name "version|deps-json" ...
    local ns=$1 name=$2 first=1
    shift 2
    mkdir -p "hub/api/v1/$ns"
    {
        printf '{"name": "%s", "namespace": "%s", "versions": {' "$name" "$ns"
        for v in "$@"; do
            [ $first = 1 ] || printf ', '
            first=0
            printf '"%s": {"name": "%s", "version": "%s", "packages": %s, "downloads": {"tarball": "%s/tarballs/%s-%s.tar.gz"}}' \
                "${v%%|*}" "$name" "${v%%|*}" "${v#*|}" "$HUB" "$name" "${v%%|*}"
        done
        printf '}}\n'
    } >"hub/api/v1/$ns/$name.json"
}

mkdir -p hub/tarballs root/models
python3 "$SRC_DIR/tests/fixtures/static_server.py" hub port hub.log &
wait_for_file port || exit 1
HUB=http://127.0.0.1:$(cat port)/
export DBT_PACKAGE_HUB_URL=$HUB
HUB=${HUB%/}
for v in 1.1.0 1.2.0 2.0.0rc1; do make_pkg_tarball dbt_utils $v hub/tarballs/dbt_utils-$v.tar.gz; done
make_pkg_tarball helpers 0.3.0 hub/tarballs/helpers-0.3.0.tar.gz
hub_json dbt-labs dbt_utils "1.1.0|[]" "1.2.0|[]" "2.0.0rc1|[]"
hub_json acme helpers '0.3.0|[{"package": "dbt-labs/dbt_utils", "version": [">=1.0.0", "<1.2.0"]}]'

printf 'name: root\nprofile: root\n' >root/dbt_project.yml
printf 'root:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: r.duckdb\n' >profiles.yml
echo "select {{ dbt_utils.version_of_dbt_utils() }} as v" >root/models/m.sql
norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //'; }

test_expect_success 'a hub package gets the newest release inside its range, and the lock records it' '
    printf "packages:\n  - package: dbt-labs/dbt_utils\n    version: [\">=1.0.0\", \"<3.0.0\"]\n" >root/packages.yml &&
    dango deps --project-dir root >out && norm <out >actual &&
    printf "Running with dango=%s\nInstalled dbt_utils 1.2.0 (dbt-labs/dbt_utils)\nWrote package-lock.yml\n" \
        "$(dango --version | sed "s/^dango \([^ ]*\).*/\1/")" >expect &&
    test_cmp expect actual &&
    grep -q "^version: .1.2.0.$" root/dbt_packages/dbt_utils/dbt_project.yml &&
    sed "\$d" root/package-lock.yml >lock &&
    printf "packages:\n  - package: dbt-labs/dbt_utils\n    name: dbt_utils\n    version: 1.2.0\n" >expect &&
    test_cmp expect lock &&
    grep -Eq "^sha1_hash: [0-9a-f]{40}$" root/package-lock.yml &&
    dango run --project-dir root --profiles-dir . >/dev/null &&
    test_grep "1.2.0" root/target/compiled/root/models/m.sql
'

test_expect_success 'the lock is installed as it stands until --upgrade' '
    make_pkg_tarball dbt_utils 1.3.0 hub/tarballs/dbt_utils-1.3.0.tar.gz &&
    hub_json dbt-labs dbt_utils "1.1.0|[]" "1.2.0|[]" "1.3.0|[]" "2.0.0rc1|[]" &&
    dango deps --project-dir root >out && norm <out >actual &&
    test_grep "^Installing the packages of package-lock.yml$" actual &&
    test_grep "^Installed dbt_utils 1.2.0 (dbt-labs/dbt_utils)$" actual &&
    ! grep -q "Wrote package-lock.yml" actual &&
    dango deps --upgrade --project-dir root >out && norm <out >actual &&
    test_grep "^Installed dbt_utils 1.3.0 (dbt-labs/dbt_utils)$" actual &&
    grep -q "^    version: 1.3.0$" root/package-lock.yml
'

test_expect_success 'an entry the lock does not cover is resolved again' '
    printf "packages:\n  - package: dbt-labs/dbt_utils\n    version: \"<1.2.0\"\n" >root/packages.yml &&
    dango deps --project-dir root >out && norm <out >actual &&
    test_grep "^Installed dbt_utils 1.1.0 (dbt-labs/dbt_utils)$" actual &&
    test_grep "^Wrote package-lock.yml$" actual
'

test_expect_success 'prereleases only when the entry asks for them' '
    printf "packages:\n  - package: dbt-labs/dbt_utils\n    version: \">=1.0.0\"\n    install-prerelease: true\n" >root/packages.yml &&
    dango deps --upgrade --project-dir root >out &&
    test_grep "Installed dbt_utils 2.0.0rc1 (dbt-labs/dbt_utils)" out
'

test_expect_success 'dependencies of dependencies, their constraints intersected' '
    printf "packages:\n  - package: acme/helpers\n    version: 0.3.0\n" >root/packages.yml &&
    dango deps --upgrade --project-dir root >out && norm <out >actual &&
    test_grep "^Installed dbt_utils 1.1.0 (dbt-labs/dbt_utils)$" actual &&
    test_grep "^Installed helpers 0.3.0 (acme/helpers)$" actual &&
    test -f root/dbt_packages/helpers/macros/v.sql
'

test_expect_success 'a version conflict is an error that lists every constraint, and installs nothing' '
    printf "packages:\n  - package: acme/helpers\n    version: 0.3.0\n  - package: dbt-labs/dbt_utils\n    version: \">=1.2.0\"\n" >root/packages.yml &&
    test_expect_code 1 dango deps --upgrade --project-dir root >out 2>err &&
    test_grep "version error for package .dbt-labs/dbt_utils.: no version satisfies every constraint (.>=1.2.0., .>=1.0.0., .<1.2.0.; together: >=1.2.0, <1.2.0)" err &&
    test_grep "packages.yml:4:5: " err &&
    grep -q "^version: .1.1.0.$" root/dbt_packages/dbt_utils/dbt_project.yml &&
    ! ls -d root/dbt_packages/.dango-deps-* 2>/dev/null
'

test_expect_success 'a package the hub does not know, and a bad constraint' '
    printf "packages:\n  - package: acme/nothing\n    version: 1.0.0\n" >root/packages.yml &&
    test_expect_code 1 dango deps --project-dir root 2>err &&
    test_grep "packages.yml:2:5: package .acme/nothing. was not found in the package hub (http://127.0.0.1:[0-9]*/api/v1/acme/nothing.json)" err &&
    printf "packages:\n  - package: dbt-labs/dbt_utils\n    version: \">=one\"\n" >root/packages.yml &&
    test_expect_code 1 dango deps --project-dir root 2>err &&
    test_grep "packages.yml:3:14: .>=one. is not a version constraint" err &&
    printf "packages:\n  - package: dbt-labs/dbt_utils\n" >root/packages.yml &&
    test_expect_code 1 dango deps --project-dir root 2>err &&
    test_grep "packages.yml:2:5: hub package .dbt-labs/dbt_utils. needs a version" err
'

test_expect_success 'tarball packages from a file and from a URL, with their own dependencies' '
    make_pkg_tarball bundle 0.1.0 bundle.tar.gz "packages:
  - package: dbt-labs/dbt_utils
    version: \"1.1.0\"" &&
    printf "packages:\n  - tarball: ../bundle.tar.gz\n    name: bundle\n  - tarball: %s/tarballs/helpers-0.3.0.tar.gz\n    name: helpers\n" "$HUB" >root/packages.yml &&
    dango deps --project-dir root >out && norm <out >actual &&
    test_grep "^Installed bundle (../bundle.tar.gz)$" actual &&
    test_grep "^Installed helpers (http://127.0.0.1:[0-9]*/tarballs/helpers-0.3.0.tar.gz)$" actual &&
    test_grep "^Installed dbt_utils 1.1.0 (dbt-labs/dbt_utils)$" actual &&
    test -f root/dbt_packages/bundle/macros/v.sql &&
    printf "packages:\n  - tarball: ../bundle.tar.gz\n" >root/packages.yml &&
    test_expect_code 1 dango deps --project-dir root 2>err &&
    test_grep "packages.yml:2:5: tarball package .../bundle.tar.gz. needs a name:" err
'

test_expect_success 'env_var() in a git URL is rendered, and only the text as written is shown or locked' '
    mkdir -p repo/macros && printf "name: gitpkg\nversion: 1.0\n" >repo/dbt_project.yml &&
    echo "{% macro g() %}1{% endmacro %}" >repo/macros/g.sql &&
    (cd repo && git init -q && git add . && git -c user.email=t@t -c user.name=t commit -qm one) &&
    printf "packages:\n  - git: \"file://{{ env_var(\x27DEPS_REPO\x27) }}\"\n" >root/packages.yml &&
    DEPS_REPO=$TRASH/repo dango deps --project-dir root >out &&
    test_grep "Installed gitpkg (file://{{ env_var(.DEPS_REPO.) }})" out &&
    ! grep -q "$TRASH/repo" out root/package-lock.yml &&
    grep -Eq "^    revision: [0-9a-f]{40}$" root/package-lock.yml &&
    test_expect_code 1 dango deps --upgrade --project-dir root 2>err &&
    test_grep "packages.yml:2:5: git: env_var(.DEPS_REPO.) is not set" err
'

test_expect_success 'a failed install leaves the installed packages as they were' '
    ls root/dbt_packages >before &&
    printf "packages:\n  - local: ../nowhere\n" >root/packages.yml &&
    test_expect_code 1 dango deps --project-dir root 2>err &&
    test_grep "local package .../nowhere.: no dbt_project.yml with a name" err &&
    ls root/dbt_packages >after && test_cmp before after
'

test_done
