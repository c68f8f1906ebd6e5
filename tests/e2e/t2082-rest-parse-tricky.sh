#!/usr/bin/env bash
# What the API's JSON parser must keep exact while it scans many bytes at
# a time: strings longer than its blocks, every escape, surrogate pairs,
# raw UTF-8, escaped keys, big numbers and whitespace everywhere load as
# they did; bad UTF-8 is found at its byte wherever it is in a page.
. "$(dirname "$0")/lib.sh"

start_fake_api || exit 1

dango init p >/dev/null </dev/null
cd p
printf 'version: "1.0"\nsources:\n' >.dango/sources.yml
add_source() {
    # add_source NAME <<YAML
    { cat .dango/sources.yml; printf '  - name: %s\n    type: rest_api\n    rest_api:\n      base_url: %s\n' "$1" "$API"; cat; } >s.tmp &&
    mv s.tmp .dango/sources.yml
}

test_expect_success 'a page of tricky JSON loads every value as it was sent' '
    add_source tricky <<YAML &&
      endpoints:
        - {name: a, path: /tricky}
YAML
    dango sync tricky >out 2>err &&
    test_grep "Loaded 2 rows into raw_tricky.a" out &&
    dango query --csv "SELECT * EXCLUDE (_dlt_id, _dlt_load_id, _dlt_extracted_at) FROM raw_tricky.a ORDER BY id" >got &&
    cat >expect <<\CSV &&
id,text,esc,n,i,f,ok,at,obj__key,obj__deep__x,utf
1,"a string longer than sixteen bytes, and then some more bytes","quote "" backslash \ slash / tab	 nl
 eé pair 😀 end",1.2345678901234567e+19,-42,-1500.0,true,2024-06-01 10:00:00+00,v,1,
2,,café,0.0,0,0.25,false,,,,café € 😀
CSV
    test_cmp expect got &&
    dango query --csv "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '"'"'raw_tricky'"'"' AND table_name = '"'"'a'"'"' ORDER BY ordinal_position" >types &&
    cat >expect <<\CSV &&
column_name,data_type
_dlt_id,UUID
id,BIGINT
text,VARCHAR
esc,VARCHAR
n,DOUBLE
i,BIGINT
f,DOUBLE
ok,BOOLEAN
at,TIMESTAMP WITH TIME ZONE
obj__key,VARCHAR
obj__deep__x,BIGINT
utf,VARCHAR
_dlt_load_id,VARCHAR
_dlt_extracted_at,TIMESTAMP WITH TIME ZONE
CSV
    test_cmp expect types &&
    dango query --csv "SELECT value, _dlt_list_idx FROM raw_tricky.a__tags ORDER BY _dlt_list_idx" >tags &&
    printf "value,_dlt_list_idx\nx,0\nyA,1\n" >expect &&
    test_cmp expect tags
'

test_expect_success 'bad UTF-8 is found at its byte, early or late in a page' '
    for pad in 0 3 4 5 31 32 33 100 1000; do
        add_source bad$pad <<YAML &&
      endpoints:
        - {name: a, path: "/badutf8?pad=$pad"}
YAML
        test_expect_code 1 dango sync bad$pad >out 2>err &&
        test_grep "^the response of GET $API/badutf8?pad=$pad is not valid UTF-8 (byte $((28 + pad)))" err || return 1
    done
'

test_expect_success 'good UTF-8 of 2, 3 and 4 bytes passes, early or late in a page' '
    for pad in 0 5 33 1000; do
        add_source good$pad <<YAML &&
      endpoints:
        - {name: a, path: "/badutf8?pad=$pad&good=1"}
YAML
        dango sync good$pad >out 2>err &&
        dango query --csv "SELECT length(name) AS n, right(name, 8) AS tail FROM raw_good$pad.a" >got &&
        printf "n,tail\n%d,café € 😀\n" $((pad + 8)) >expect &&
        test_cmp expect got || return 1
    done
'

test_done
