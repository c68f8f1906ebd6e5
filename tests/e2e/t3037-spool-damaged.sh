#!/usr/bin/env bash
# __dango_spool() reads the spool files Dango writes (warehouse/spool.h);
# a file cut short (a row or its end marker missing), one whose row count
# does not match, a value past its row, a string not UTF-8, or a file that
# is no spool file is an error naming the file, the row and the byte, not
# a crash or rows made up; a declared integer past 64 bits names its row
# and column.
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
# rows of one text column (file column 3) and one integer (column 4):
# "hi", 7 then "yo", 8
magic='DANGOSP1'
row1='\007\000\000\000\030\002hi\041\0017'
row2='\007\000\000\000\030\002yo\041\0018'
end2='\377\377\377\377\002\000\000\000\000\000\000\000'
printf "$magic$row1$row2$end2" >good.spool
printf "$magic$row1$row2" >no_end.spool
printf "$magic$row1\007\000\000\000\030\002y" >cut_row.spool
printf "$magic$row1$row2\377\377\377\377\003\000\000\000\000\000\000\000" >count.spool
printf "$magic\005\000\000\000\030\011hi\041" >past.spool
printf "$magic\004\000\000\000\030\002\377\376\377\377\377\377\001\000\000\000\000\000\000\000" >utf8.spool
printf 'DANGOSP0' >other.spool
spool() {
    echo "SELECT * FROM __dango_spool(['$1'], ['s', 'n'], [3, 4], ['text', 'bigint'])"
}

test_expect_success 'a whole spool file reads back as its rows' '
    dango query --write --csv "$(spool good.spool)" >actual &&
    printf "s,n\nhi,7\nyo,8\n" >expect &&
    test_cmp expect actual &&
    dango query --write --csv "SELECT * FROM __dango_spool([$(printf "'"'"'good.spool'"'"', %.0s" 1 2)'"'"'good.spool'"'"'], [\$\$n\$\$], [4], [\$\$double\$\$]) ORDER BY 1" >actual &&
    printf "n\n7.0\n7.0\n7.0\n8.0\n8.0\n8.0\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'damaged spool files are errors naming the file, row and byte' '
    for f in no_end cut_row count past utf8 other; do
        test_must_fail dango query --write --csv "$(spool $f.spool)" >/dev/null 2>err &&
        grep -o "spool file .*" err | head -1
    done >actual &&
    cat >expect <<-\EOF &&
	spool file no_end.spool is damaged at row 3 (byte 30): the file is truncated
	spool file cut_row.spool is damaged at row 2 (byte 19): the file is truncated
	spool file count.spool is damaged at row 3 (byte 30): the row count at its end does not match
	spool file past.spool is damaged at row 1 (byte 12): a value runs past its row
	spool file utf8.spool is damaged at row 1 (byte 12): a string that is not valid UTF-8
	spool file other.spool is damaged at row 1 (byte 0): not a spool file of this Dango
	EOF
    test_cmp expect actual
'

test_expect_success 'a Singer integer past BIGINT: the sync fails naming the row and column' '
    printf "%s\n" "{\"type\": \"SCHEMA\", \"stream\": \"s\", \"key_properties\": [], \"schema\": {\"properties\": {\"id\": {\"type\": \"integer\"}}}}" \
        "{\"type\": \"RECORD\", \"stream\": \"s\", \"record\": {\"id\": 1}}" \
        "{\"type\": \"RECORD\", \"stream\": \"s\", \"record\": {\"id\": 99999999999999999999}}" >"$TRASH/tap.jsonl" &&
    cat >.dango/sources.yml <<-EOF &&
	version: "1.0"
	sources:
	  - name: tap
	    type: command
	    command:
	      run: [cat, $TRASH/tap.jsonl]
	      format: singer
	EOF
    test_must_fail dango sync tap >out 2>&1 &&
    test_grep "s (part 1): .*spool file .*/s\.0\.spool, row 2, column .id.: 99999999999999999999 is out of range for BIGINT" out &&
    test_grep "Nothing was changed for tap" out
'

test_done
