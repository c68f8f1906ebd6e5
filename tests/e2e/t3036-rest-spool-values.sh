#!/usr/bin/env bash
# Every kind of value a REST API or a Singer tap sends reads back from the
# warehouse with the type and value it had when the spool files were
# NDJSON read by read_json (the expected output below is what that code
# loaded): integers, integers past BIGINT, doubles (-0, 1E5, denormals),
# booleans, ISO timestamps with offsets and nanoseconds, text with escapes,
# unicode, newlines and control characters, nulls, sparse fields appearing
# on the second page, fields widening int -> double -> text -> boolean,
# objects flattened a__b, lists into child tables (lists of lists too),
# JSON past max_table_nesting, a data field named _dlt_id; a tap's declared
# date-time, date, number, string-or-integer and object-or-array fields.
. "$(dirname "$0")/lib.sh"

mkdir www
cat >www/page1.json <<'EOF'
{"data": [
 {"id": 1, "i": 1, "big": 12345678901234567890, "huge": 123456789012345678901234567890, "d": 1.50, "b": true, "ts": "2024-01-02T03:04:05+02:00", "s": "tab\there \"q\" \\ \u00e9 \u2603 \ud83d\ude00\nline2 / \u0001", "w": 1, "nest": {"a": 1, "b": {"c": "x", "e": 2.5e-3}}, "tags": ["a", "b\"", 3], "items": [{"k": 1, "sub": [1, 2]}, {"k": 2, "v": {"z": null}}], "deep": {"l1": {"l2": {"l3": {"l4": [1, {"x": 1.50, "y": "\u00e9"}]}}}}, "nul": null, "neg0": -0, "neg0d": -0.0, "exp": 1E5, "datestr": "2024-02-29"},
 {"id": 2, "i": -7, "big": -1, "d": -0.0, "b": false, "ts": "2024-01-02 03:04:05.123456Z", "s": "", "w": 2.5, "nest": {"a": null}, "tags": [], "n": null, "neg0": 5, "exp": 0.1, "mixedj": {"a": [1, 2]}},
 {"id": 3, "i": 9007199254740993, "d": 100, "b": true, "ts": "2024-12-31T23:59:59.999999999+14:00", "w": "two", "s": "\u00fc", "mixedj": "plain", "tags": [[1, 2], [3]], "_dlt_id": "data-id", "val\u00fc": 7}
], "next": "NEXT2"}
EOF
cat >www/page2.json <<'EOF'
{"data": [
 {"id": 4, "late": "appears late", "w": true, "ts": "2024-01-02T03:04:05.1234567-05:30", "items": [{"k": 3, "extra": true, "sub": [[9]]}], "mixed": 1.50, "d": 1e300, "i": 12, "b": false, "s": "x\r\n\ty"},
 {"id": 5, "mixed": "text", "sparse_num": 42, "w": {"o": 1}, "nest": {"a": 3.25, "b": {"c": 7}}, "tags": ["z"], "big": 18446744073709551615, "huge": -98765432109876543210.5, "bools": [true, false, null]},
 {"id": 6, "mixed": false, "ts": "2024-06-01T00:00:00", "d": 2.2250738585072011e-308, "exp": 1.0e+2, "s": "\\u0041 not an escape", "neg0d": 0.0}
]}
EOF
cat >tap.jsonl <<'EOF'
{"type": "SCHEMA", "stream": "things", "key_properties": ["id"], "schema": {"properties": {"id": {"type": "integer"}, "n": {"type": ["number", "null"]}, "ok": {"type": "boolean"}, "at": {"type": "string", "format": "date-time"}, "day": {"type": "string", "format": "date"}, "s": {"type": "string"}, "sn": {"type": ["string", "integer"]}, "blob": {"type": ["object", "array"]}, "obj": {"type": "object", "properties": {"x": {"type": "integer"}}}, "list": {"type": "array", "items": {"type": "string"}}}}}
{"type": "RECORD", "stream": "things", "record": {"id": 1, "n": 1, "ok": true, "at": "2024-01-02T03:04:05.5+01:00", "day": "2024-01-02", "s": "h\u00e9llo\n", "sn": 12.50, "blob": {"k": [1, 2.0]}, "obj": {"x": 5}, "list": ["a", "b"]}, "time_extracted": "2024-03-01T00:00:00Z"}
{"type": "RECORD", "stream": "things", "record": {"id": 2, "n": 2.75, "ok": false, "at": "2024-01-02", "day": "1999-12-31", "s": "", "sn": "text", "blob": [true, null], "obj": {}, "list": []}, "version": 3}
{"type": "RECORD", "stream": "things", "record": {"id": 3, "n": null, "at": "2024-01-02 03:04:05", "sn": 7, "blob": {}, "list": ["c"]}}
EOF
# the pages, the first linking to the second
python3 - "$TRASH/www" "$TRASH/port" <<'PY' &
import http.server, os, socketserver, sys
os.chdir(sys.argv[1])
class Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            body = open(self.path.split('?')[0].lstrip('/'), 'rb').read()
        except OSError:
            self.send_error(404)
            return
        body = body.replace(b'NEXT2', b'http://127.0.0.1:%d/page2.json' % self.server.server_address[1])
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
with socketserver.TCPServer(('127.0.0.1', 0), Pages) as s:
    open(sys.argv[2] + '.tmp', 'w').write(str(s.server_address[1]))
    os.rename(sys.argv[2] + '.tmp', sys.argv[2])
    s.serve_forever()
PY
wait_for_file "$TRASH/port" || exit 1

dango init p >/dev/null </dev/null
cd p
sed -i 's/^auto_generate: true/auto_generate: false/' .dango/project.yml
cat >.dango/sources.yml <<YAML
version: "1.0"
sources:
  - name: api
    type: rest_api
    rest_api:
      base_url: http://127.0.0.1:$(cat "$TRASH/port")
      endpoints:
        - name: recs
          path: /page1.json
          data_selector: data
          paginator: {type: json_link, next_url_path: next}
          write_disposition: replace
          max_table_nesting: 3
  - name: tap
    type: command
    command:
      run: [cat, $TRASH/tap.jsonl]
      format: singer
YAML

# a table's columns and types, then its rows (a child's with its parent's id)
show() {
    dango query --csv "SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = '$1' AND table_name = '$2' ORDER BY ordinal_position"
    dango query --csv "$3"
}
rows() {
    echo "SELECT COLUMNS(c -> c NOT IN ('_dlt_id', '_dlt_load_id', '_dlt_extracted_at')) FROM $1 ORDER BY id"
}
child() { # table, parent table, the parent's key expression
    echo "SELECT $3 AS parent, c.* EXCLUDE (pid) FROM (SELECT _dlt_parent_id AS pid, _dlt_list_idx,
        COLUMNS(x -> x NOT IN ('_dlt_id', '_dlt_parent_id', '_dlt_list_idx', '_dlt_load_id', '_dlt_extracted_at'))
        FROM $1) c JOIN $2 p ON c.pid = p._dlt_id ORDER BY ALL"
}

# what the NDJSON spool and read_json loaded (not indented: a value's
# leading tab is data; the \001 and \r of the text are left out of the
# comparison and counted apart)
cat >"$TRASH/expect.recs" <<'EXPECT'
column_name,data_type
_dlt_id,UUID
id,BIGINT
i,BIGINT
big,DOUBLE
huge,DOUBLE
d,DOUBLE
b,BOOLEAN
ts,TIMESTAMP WITH TIME ZONE
s,VARCHAR
w,VARCHAR
nest__a,DOUBLE
nest__b__c,VARCHAR
nest__b__e,DOUBLE
deep__l1__l2__l3,JSON
neg0,BIGINT
neg0d,DOUBLE
exp,DOUBLE
datestr,VARCHAR
mixedj,VARCHAR
source_dlt_id,VARCHAR
valü,BIGINT
late,VARCHAR
mixed,VARCHAR
sparse_num,BIGINT
w__o,BIGINT
_dlt_load_id,VARCHAR
_dlt_extracted_at,TIMESTAMP WITH TIME ZONE
id,i,big,huge,d,b,ts,s,w,nest__a,nest__b__c,nest__b__e,deep__l1__l2__l3,neg0,neg0d,exp,datestr,mixedj,source_dlt_id,valü,late,mixed,sparse_num,w__o
1,1,1.2345678901234567e+19,1.2345678901234568e+29,1.5,true,2024-01-02 01:04:05+00,"tab	here ""q"" \ é ☃ 😀
line2 / ",1,1.0,x,0.0025,"{""l4"":[1,{""x"":1.5,""y"":""é""}]}",0,-0.0,100000.0,2024-02-29,,,,,,,
2,-7,-1.0,,-0.0,false,2024-01-02 03:04:05.123456+00,,2.5,,,,,5,,0.1,,,,,,,,
3,9007199254740993,,,100.0,true,2024-12-31 09:59:59.999999+00,ü,two,,,,,,,,,plain,data-id,7,,,,
4,12,,,1e+300,false,2024-01-02 08:34:05.123456+00,"x
	y",true,,,,,,,,,,,,appears late,1.5,,
5,,1.8446744073709552e+19,-9.876543210987654e+19,,,,,,3.25,7,,,,,,,,,,,text,42,1
6,,,,2.225073858507201e-308,,2024-06-01 00:00:00+00,\u0041 not an escape,,,,,,,-0.0,100.0,,,,,,false,,
EXPECT
cat >"$TRASH/expect.children" <<'EXPECT'
column_name,data_type
_dlt_id,UUID
_dlt_parent_id,UUID
_dlt_list_idx,BIGINT
k,BIGINT
extra,BOOLEAN
_dlt_load_id,VARCHAR
_dlt_extracted_at,TIMESTAMP WITH TIME ZONE
parent,_dlt_list_idx,k,extra
1,0,1,
1,1,2,
4,0,3,true
column_name,data_type
_dlt_id,UUID
_dlt_parent_id,UUID
_dlt_list_idx,BIGINT
value,VARCHAR
_dlt_load_id,VARCHAR
_dlt_extracted_at,TIMESTAMP WITH TIME ZONE
parent,_dlt_list_idx,value
1,0,a
1,1,"b"""
1,2,3
3,0,
3,1,
5,0,z
column_name,data_type
_dlt_parent_id,UUID
_dlt_list_idx,BIGINT
value,BOOLEAN
_dlt_load_id,VARCHAR
_dlt_id,UUID
_dlt_extracted_at,TIMESTAMP WITH TIME ZONE
parent,_dlt_list_idx,value
5,0,true
5,1,false
5,2,
column_name,data_type
_dlt_parent_id,UUID
_dlt_list_idx,BIGINT
value,BIGINT
_dlt_load_id,VARCHAR
_dlt_id,UUID
_dlt_extracted_at,TIMESTAMP WITH TIME ZONE
parent,_dlt_list_idx,value
2,0,1
2,1,2
column_name,data_type
_dlt_id,UUID
_dlt_parent_id,UUID
_dlt_list_idx,BIGINT
value,BIGINT
_dlt_load_id,VARCHAR
_dlt_extracted_at,TIMESTAMP WITH TIME ZONE
parent,_dlt_list_idx,value
1,0,1
1,1,2
3,0,
column_name,data_type
_dlt_parent_id,UUID
_dlt_list_idx,BIGINT
value,BIGINT
_dlt_load_id,VARCHAR
_dlt_id,UUID
_dlt_extracted_at,TIMESTAMP WITH TIME ZONE
parent,_dlt_list_idx,value
0,0,9
column_name,data_type
_dlt_parent_id,UUID
_dlt_list_idx,BIGINT
value,BIGINT
_dlt_load_id,VARCHAR
_dlt_id,UUID
_dlt_extracted_at,TIMESTAMP WITH TIME ZONE
parent,_dlt_list_idx,value
0,0,1
0,1,2
1,0,3
EXPECT
cat >"$TRASH/expect.tap" <<'EXPECT'
column_name,data_type
_dlt_id,UUID
id,BIGINT
n,DOUBLE
ok,BOOLEAN
at,TIMESTAMP WITH TIME ZONE
day,DATE
s,VARCHAR
sn,VARCHAR
blob,JSON
obj__x,BIGINT
_dlt_extracted_at,TIMESTAMP WITH TIME ZONE
_sdc_table_version,BIGINT
_dlt_load_id,VARCHAR
id,n,ok,at,day,s,sn,blob,obj__x,_sdc_table_version,time_extracted
1,1.0,true,2024-01-02 02:04:05.5+00,2024-01-02,"héllo
",12.5,"{""k"":[1,2.0]}",5,,2024-03-01 00:00:00+00
2,2.75,false,2024-01-02 00:00:00+00,1999-12-31,,text,"[true,null]",,3,
3,,,2024-01-02 03:04:05+00,,,7,{},,,
column_name,data_type
_dlt_id,UUID
_dlt_parent_id,UUID
_dlt_list_idx,BIGINT
value,VARCHAR
_dlt_load_id,VARCHAR
_dlt_extracted_at,TIMESTAMP WITH TIME ZONE
parent,_dlt_list_idx,value
1,0,a
1,1,b
3,0,c
EXPECT

test_expect_success 'a REST sync: every column type and value as read_json loaded them' '
    dango sync api >out 2>&1 &&
    show raw_api recs "$(rows raw_api.recs)" >actual &&
    tr -d "\001\r" <actual >a && test_cmp "$TRASH/expect.recs" a &&
    grep -c "$(printf "\001")" actual >n && echo 1 >expect && test_cmp expect n &&
    grep -c "$(printf "\r")" actual >n && test_cmp expect n
'

test_expect_success 'child tables: lists of objects, scalars, lists of lists, booleans with a null' '
    for t in recs__items recs__tags recs__bools recs__mixedj__a; do
        show raw_api $t "$(child raw_api.$t raw_api.recs p.id)"
    done >actual &&
    show raw_api recs__items__sub "$(child raw_api.recs__items__sub raw_api.recs__items "p.k")" >>actual &&
    show raw_api recs__items__sub__value "$(child raw_api.recs__items__sub__value raw_api.recs__items__sub "p._dlt_list_idx")" >>actual &&
    show raw_api recs__tags__value "$(child raw_api.recs__tags__value raw_api.recs__tags "p._dlt_list_idx")" >>actual &&
    test_cmp "$TRASH/expect.children" actual
'

test_expect_success 'a Singer tap: declared date-time, date, number, string-or-integer, object-or-array' '
    dango sync tap >out 2>&1 &&
    show raw_tap things "SELECT COLUMNS(c -> c NOT IN ('"'"'_dlt_id'"'"', '"'"'_dlt_load_id'"'"', '"'"'_dlt_extracted_at'"'"')),
        CASE WHEN id = 1 THEN _dlt_extracted_at END AS time_extracted FROM raw_tap.things ORDER BY id" >actual &&
    show raw_tap things__list "$(child raw_tap.things__list raw_tap.things p.id)" >>actual &&
    test_cmp "$TRASH/expect.tap" actual
'

test_done
