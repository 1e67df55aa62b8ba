# bash completion for netlab: verbs, options, running labs, node names and NODE:IF endpoints.
# The candidates come from `netlab __complete`, which reads the command table --help prints and
# the running labs' state files (without waiting for their locks).

_netlab() {
    local line=${COMP_LINE:0:COMP_POINT}
    local -a words
    # Split the line ourselves: bash's COMP_WORDS splits NODE:IF at the colon.
    read -r -a words <<< "$line"
    [[ $line =~ [[:space:]]$ ]] && words+=("")
    local cur=${words[${#words[@]}-1]}
    local candidates
    candidates=$("${words[0]}" __complete -- "${words[@]:1}" 2>/dev/null) || return 0
    if [[ $candidates == ":files" ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return 0
    fi
    mapfile -t COMPREPLY < <(compgen -W "$candidates" -- "$cur")
    # bash replaces only what follows the last word break: drop what precedes it (the colon of
    # NODE:IF), as bash-completion's __ltrim_colon_completions does.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local prefix=${cur%"${cur##*:}"}
        local i
        for i in "${!COMPREPLY[@]}"; do
            COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}
        done
    fi
}
complete -F _netlab netlab
