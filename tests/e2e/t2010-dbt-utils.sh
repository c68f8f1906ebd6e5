#!/usr/bin/env bash
# dbt_utils' own integration suite, unmodified, laid out as `dbt deps` would
# (dbt_packages/dbt_utils), run with `dango build` on DuckDB: the pass count
# stays at or above the figure in docs/dbt-compatibility.md, the nodes that
# fail are exactly the ones explained there, and known nodes pass with the
# right rows.
. "$(dirname "$0")/lib.sh"

fixture=
for d in "${DANGO_FIXTURES:-}" "$SRC_DIR/../shared/fixtures" "$SRC_DIR/../../shared/fixtures" /work/shared/fixtures; do
    if [ -n "$d" ] && [ -d "$d/dbt-utils/integration_tests" ]; then fixture=$d/dbt-utils; break; fi
done

test_expect_success 'the dbt-utils fixture is there (set DANGO_FIXTURES to its folder)' '
    test -n "$fixture"
'

cp -r "$fixture/integration_tests" it && mkdir -p it/dbt_packages && ln -s "$fixture" it/dbt_packages/dbt_utils
rm -rf it/target
cat >profiles.yml <<\EOF
integration_tests:
  target: duckdb
  outputs:
    duckdb:
      type: duckdb
      path: it.duckdb
      threads: 2
EOF

norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //'; }

test_expect_success 'dango build runs the suite: 226 of 237 nodes pass' '
    test_expect_code 1 dango build --project-dir it --profiles-dir . >out 2>err &&
    norm <out >actual &&
    sed -n "s/^Done. PASS=\([0-9]*\) WARN=0 ERROR=[0-9]* SKIP=[0-9]* TOTAL=237$/\1/p" actual >pass &&
    test -s pass && test "$(cat pass)" -ge 226
'

test_expect_success 'what fails is what docs/dbt-compatibility.md explains' '
    sed -n -E "s/^[0-9]+ of 237 (ERROR|FAIL [0-9]+|SKIP) (creating sql [a-z]+ model main\.|test )?([a-z0-9_]+) .*/\3/p" actual |
        sort >failed &&
    cat >expect <<-\EOF &&
	dbt_utils_at_least_one_test_ge_445bca4d
	dbt_utils_equality_data_test_e_69ffc50e
	dbt_utils_equality_test_date_spine_ref_data_date_spine_
	dbt_utils_equality_test_get_re_37104286
	not_null_test_get_relations_by_prefix_and_union_event
	not_null_test_get_relations_by_prefix_and_union_user_id
	test_date_spine
	test_get_relations_by_pattern
	test_get_relations_by_prefix_and_union
	unique_test_get_relations_by_prefix_and_union_user_id
	assert_equal_test_width_bucket_actual__expected
	EOF
    sort expect >expect.sorted && test_cmp expect.sorted failed &&
    for n in test_date_spine test_get_relations_by_pattern assert_equal_test_width_bucket dbt_utils_equality_data_test_e_69ffc50e; do
        grep -q "$n" "$SRC_DIR/docs/dbt-compatibility.md" || { echo "not in the docs: $n"; exit 1; }
    done
'

test_expect_success 'the reasons are DuckDB rejecting or computing the suite SQL differently' '
    test_grep "Could not choose a best candidate function for the function call \"+(STRING_LITERAL, INTERVAL)\"" actual &&
    test_grep "Table with name \"information_schema.tables\" does not exist because schema \"information_schema\" does not exist" actual &&
    test_grep "Got 0 results, configured to fail if <1" actual
'

test_expect_success 'package macros, dispatch, generic tests and introspection pass' '
    for n in "OK created sql view model main.test_star " "OK created sql view model main.test_pivot " \
             "OK created sql view model main.test_union " "OK created sql view model main.test_unpivot " \
             "OK created sql view model main.test_get_column_values " \
             "OK created sql view model main.test_generate_surrogate_key " \
             "PASS dbt_utils_equality_test_star_uppercase_ref_data_star_expected_ " \
             "PASS dbt_utils_expression_is_true_d_9226f44a " \
             "PASS dbt_utils_unique_combination_o_" "PASS dbt_utils_recency_" \
             "PASS assert_get_query_results_as_dict_objects_equal " "PASS test_slugify " \
             "PASS assert_pretty_time_is_string " "PASS dbt_utils_mutually_exclusive_r_"; do
        grep -q "$n" actual || { echo "missing: $n"; exit 1; }
    done
'

# the views name their database ("it"."main"."x", as dbt-duckdb writes
# them): read them with it.duckdb attached under its own name
test_expect_success 'the models hold the rows the suite expects' '
    dango init peek >/dev/null &&
    (cd peek && dango query --write --csv "attach '"'"'../it.duckdb'"'"' as it (read_only); use it; select * from main.test_pivot order by 1") >out &&
    printf "size,red,blue\nM,1,0\nS,1,1\n" >expect && test_cmp expect out &&
    (cd peek && dango query --write --csv "attach '"'"'../it.duckdb'"'"' as it (read_only); use it; select * from main.test_star order by all") >out &&
    printf "field_1,field_2\na,b\nd,e\ng,h\n" >expect && test_cmp expect out &&
    (cd peek && dango query --write --csv "attach '"'"'../it.duckdb'"'"' as it (read_only); use it; select count(*) from main.test_generate_surrogate_key
        where actual_all_columns_list <> expected_all_columns or actual_column_1_only <> expected_column_1_only") >out &&
    printf "count_star()\n0\n" >expect && test_cmp expect out
'

test_expect_success 'a second build finds the package installed and the same result' '
    test_expect_code 1 dango build --project-dir it --profiles-dir . >out2 2>err2 &&
    norm <out2 | grep "^Done." >done2 && grep "^Done." actual >done1 && test_cmp done1 done2
'

test_done
