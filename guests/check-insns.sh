#!/usr/bin/env bash
# Fails if an x86-64 binary (ELF image or object) holds an instruction that this machine's KVM instruction
# emulator cannot run (DESIGN.md, "Guests"): int3 / int n, SSE/AVX/MMX (any xmm/ymm/zmm/mm/k register),
# popcnt, lzcnt/tzcnt, BMI1/2, adcx/adox, movbe, crc32, rdtscp, rdpid, xgetbv, x87, cmpxchg16b,
# monitor/mwait. ud2 is allowed: guests assert with it.
#
#   check-insns.sh FILE...      prints "FILE: 0xADDR: INSTRUCTION" per finding, exits 1 if any
set -euo pipefail

OBJDUMP=${OBJDUMP:-objdump}

if [ "$#" -eq 0 ]; then
    echo "usage: $0 FILE..." >&2
    exit 2
fi

status=0
for file in "$@"; do
    if [ ! -f "$file" ]; then
        echo "check-insns: $file: no such file" >&2
        status=1
        continue
    fi
    # -w: one line per instruction; --no-show-raw-insn: "  ADDR:<TAB>MNEMONIC OPERANDS".
    listing=$("$OBJDUMP" -d -w --no-show-raw-insn "$file") || { echo "check-insns: $file: objdump failed" >&2; status=1; continue; }
    findings=$(awk -F'\t' -v file="$file" '
        # Only instruction lines: an address, a colon, a tab, the instruction.
        $1 ~ /^ *[0-9a-f]+:$/ && NF >= 2 {
            addr = $1; gsub(/[ :]/, "", addr)
            insn = $2
            for (i = 3; i <= NF; i++) insn = insn " " $i
            # Peel off prefixes objdump prints as words ("cs nopw", "lock cmpxchg", "rep stos") to get
            # the mnemonic itself.
            n = split(insn, w, / +/)
            k = 1
            while (k < n && w[k] ~ /^(cs|ds|es|fs|gs|ss|data16|data32|addr32|addr16|lock|rep|repz|repe|repnz|repne|notrack|bnd|xacquire|xrelease|rex(\.[WRXB]+)?|rex64)$/) k++
            m = w[k]
            bad = ""
            if (m ~ /^int(1|3|o)?$/) bad = "software interrupt"
            else if (insn ~ /%([xyz]mm[0-9]+|mm[0-7]|k[0-7])([^0-9]|$)/) bad = "SSE/AVX/MMX register"
            else if (m ~ /^(popcnt|lzcnt|tzcnt|andn|bextr|blsi|blsr|blsmsk|bzhi|pdep|pext|rorx|sarx|shlx|shrx|mulx|adcx|adox|movbe|crc32)[bwlq]?$/) bad = "unsupported extension"
            else if (m ~ /^(rdtscp|rdpid|xgetbv|xsetbv|cmpxchg16b|monitorx?|mwaitx?|umonitor|umwait|tpause)$/) bad = "unsupported instruction"
            else if (m ~ /^(ldmxcsr|stmxcsr|vldmxcsr|vstmxcsr|fxsave|fxsave64|fxrstor|fxrstor64|xsave|xsave64|xsaveopt|xsavec|xsaves|xrstor|xrstor64|xrstors|emms|femms|movnti)$/) bad = "SSE/FPU state"
            else if (m ~ /^f/ || m == "wait") bad = "x87"
            else if (m == "(bad)") bad = "undecodable bytes"
            if (bad != "") printf "%s: 0x%s: %s (%s)\n", file, addr, insn, bad
        }' <<<"$listing")
    if [ -n "$findings" ]; then
        echo "check-insns: forbidden instructions in $file:" >&2
        echo "$findings" >&2
        status=1
    fi
done
exit "$status"
