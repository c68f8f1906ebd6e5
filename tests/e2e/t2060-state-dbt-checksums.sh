#!/usr/bin/env bash
# state:modified.body against a manifest.json as dbt writes it: a file's
# checksum is {name: sha256, checksum: SHA-256 of the file stripped as
# Python strips it}; a seed over 1 MiB is known by its path; body compares
# a seed's checksum and any other node's raw_code, as dbt's same_body. A
# manifest Dango wrote before (SHA-1 of the whole file) still compares.
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/seeds st old
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: w.duckdb\n' >profiles.yml
printf '\n  select 1 as id\n\n' >p/models/a.sql
printf 'select 2 as id\n' >p/models/b.sql
# leading NBSP, trailing ideographic space: Python's str.strip() removes both
printf '\302\240select '"'"'\303\251'"'"' as x\343\200\200\n' >p/models/c.sql
printf 'id,name\n1,x\n' >p/seeds/s.csv
printf 'id\n5\n' >p/seeds/s2.csv
big() { echo "id,pad"; seq 1 40000 | sed "s/$/,$1/"; }
big xxxxxxxxxxxxxxxxxxxxxxxx >p/seeds/big.csv
big yyyyyyyyyyyyyyyyyyyyyyyy >p/seeds/grown.csv

test_expect_success 'manifest.json has dbt'"'"'s checksums: sha256 of the stripped file, a big seed by its path' '
    test $(stat -c %s p/seeds/big.csv) -gt 1048576 &&
    dango parse --project-dir p --profiles-dir . >/dev/null &&
    jq -r ".nodes | to_entries | sort_by(.key)[] | [.key, .value.checksum.name, .value.checksum.checksum] | @tsv" \
        p/target/manifest.json >actual &&
    cat >expect <<-\EOF &&
	model.p.a	sha256	3ea0f972fa1b56aa2dc2f56ee784b6a5796312f9a813d59ae70fd8855f10d16d
	model.p.b	sha256	f9b95a5b8f6c1a6db2b4a5abb57352b135c8911d61d0c08ce6b27432ee335434
	model.p.c	sha256	e65912e33678c00de9b844bb3a0e8df0a5133e9291e87ac055e618f19022831c
	seed.p.big	path	seeds/big.csv
	seed.p.grown	path	seeds/grown.csv
	seed.p.s	sha256	5af8c74996f09d200244d36071b5739f7b7bf484304d4ab5f32c15837ebb7815
	seed.p.s2	sha256	82332b8740502cb28e32c4c4f97818ef1b92013280f0a7b10bb81dbfc940c135
	EOF
    test_cmp expect actual
'

# what dbt 1.9 writes for these files (the fields state: reads), with b
# and s2 changed since, and grown under 1 MiB then
cat >st/manifest.json <<\EOF
{"metadata": {"dbt_version": "1.9.0"},
 "nodes": {
  "model.p.a": {"resource_type": "model", "raw_code": "select 1 as id", "config": {"enabled": true, "alias": null, "schema": null, "database": null, "tags": [], "meta": {}}, "unrendered_config": {},
                "checksum": {"name": "sha256", "checksum": "3ea0f972fa1b56aa2dc2f56ee784b6a5796312f9a813d59ae70fd8855f10d16d"}},
  "model.p.b": {"resource_type": "model", "raw_code": "select 20 as id", "config": {"enabled": true, "tags": [], "meta": {}}, "unrendered_config": {},
                "checksum": {"name": "sha256", "checksum": "0000000000000000000000000000000000000000000000000000000000000000"}},
  "model.p.c": {"resource_type": "model", "raw_code": "select 'é' as x", "config": {"enabled": true, "tags": [], "meta": {}}, "unrendered_config": {},
                "checksum": {"name": "sha256", "checksum": "e65912e33678c00de9b844bb3a0e8df0a5133e9291e87ac055e618f19022831c"}},
  "seed.p.s": {"resource_type": "seed", "raw_code": "", "config": {"enabled": true, "tags": [], "meta": {}}, "unrendered_config": {},
               "checksum": {"name": "sha256", "checksum": "5af8c74996f09d200244d36071b5739f7b7bf484304d4ab5f32c15837ebb7815"}},
  "seed.p.s2": {"resource_type": "seed", "raw_code": "", "config": {"enabled": true, "tags": [], "meta": {}}, "unrendered_config": {},
                "checksum": {"name": "sha256", "checksum": "dbf99c707ccba487a98d8d6bc3ed040d218935d573507ac7ee9048b9ddec6a72"}},
  "seed.p.big": {"resource_type": "seed", "raw_code": "", "config": {"enabled": true, "tags": [], "meta": {}}, "unrendered_config": {},
                 "checksum": {"name": "path", "checksum": "seeds/big.csv"}},
  "seed.p.grown": {"resource_type": "seed", "raw_code": "", "config": {"enabled": true, "tags": [], "meta": {}}, "unrendered_config": {},
                   "checksum": {"name": "sha256", "checksum": "82332b8740502cb28e32c4c4f97818ef1b92013280f0a7b10bb81dbfc940c135"}}
 },
 "sources": {}, "macros": {}}
EOF

test_expect_success 'state:modified.body against dbt'"'"'s manifest: the changed raw_code and checksums only' '
    dango ls --project-dir p --profiles-dir . --state st -s state:modified.body --output name >actual 2>err &&
    printf "b\ngrown\ns2\n" >expect &&
    sort actual | test_cmp expect - &&
    test_grep "Found a seed (p.big) >1MB in size at the same path, dbt cannot tell if it has changed: assuming they are the same" err &&
    test_grep "Found a seed (p.grown) >1MB in size. The previous file was <=1MB, so it has changed" err
'

test_expect_success 'state:modified as a whole compares the config as written (unrendered_config), as dbt' '
    dango ls --project-dir p --profiles-dir . --state st -s state:modified --output name >actual 2>/dev/null &&
    printf "b\ngrown\ns2\n" >expect &&
    sort actual | test_cmp expect - &&
    echo "{{ config(materialized=\"table\") }}" >>p/models/a.sql &&
    dango ls --project-dir p --profiles-dir . --state st -s state:modified.configs --output name >actual 2>/dev/null &&
    echo a >expect && test_cmp expect actual &&
    printf "\n  select 1 as id\n\n" >p/models/a.sql
'

test_expect_success 'a big seed moved to another path has changed, with dbt'"'"'s warning' '
    sed -i "s|\"seeds/big.csv\"|\"seeds/old/big.csv\"|" st/manifest.json &&
    dango ls --project-dir p --profiles-dir . --state st -s state:modified.body --output name >actual 2>err &&
    test_grep "^big$" actual &&
    test_grep "Found a seed (p.big) >1MB in size. The previous file was in a different location, assuming it has changed" err
'

# a manifest Dango wrote before dbt's checksums: SHA-1 of the whole file,
# raw_code as read (unstripped)
cat >old/manifest.json <<\EOF
{"metadata": {},
 "nodes": {
  "model.p.a": {"raw_code": "\n  select 1 as id\n\n", "config": {}, "checksum": {"name": "sha1", "checksum": "bc9c215d5f9f9551cf835b7acbfbfc6aead96563"}},
  "model.p.b": {"raw_code": "select 2 as id\n", "config": {}, "checksum": {"name": "sha1", "checksum": "1111111111111111111111111111111111111111"}},
  "model.p.c": {"raw_code": "select 'é' as x\n", "config": {}, "checksum": {"name": "sha1", "checksum": "2222222222222222222222222222222222222222"}},
  "seed.p.s": {"raw_code": "", "config": {}, "checksum": {"name": "sha1", "checksum": "40fa5b5e681eba46c4ce1601a648e5f8fc31c1e7"}},
  "seed.p.s2": {"raw_code": "", "config": {}, "checksum": {"name": "sha1", "checksum": "dfd580239ea5d9d22060e606604c34f39c0295b6"}}
 },
 "sources": {}, "macros": {}}
EOF

test_expect_success 'a manifest of an older Dango (SHA-1, raw_code unstripped) compares too; nodes it lacks are new' '
    dango ls --project-dir p --profiles-dir . --state old -s state:modified.body --output name >actual 2>/dev/null &&
    printf "big\ngrown\ns2\n" >expect &&
    sort actual | test_cmp expect - &&
    dango ls --project-dir p --profiles-dir . --state old -s state:new --output name >actual &&
    printf "big\ngrown\n" >expect &&
    sort actual | test_cmp expect -
'

test_expect_success 'a seed edited since: modified.body, and only it' '
    printf "id,name\n1,y\n" >p/seeds/s.csv &&
    dango ls --project-dir p --profiles-dir . --state st -s state:modified.body --resource-type seed --output name >actual 2>/dev/null &&
    printf "big\ngrown\ns\ns2\n" >expect &&
    sort actual | test_cmp expect -
'

test_done
