# bash completion for wspush                                  -*- shell-script -*-
# Install: copy to /usr/share/bash-completion/completions/wspush (or source it).

_wspush() {
  local cur prev words cword
  _init_completion || return

  local commands="serve client publish bench help"
  local sub=""
  local i
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      serve|client|publish|bench|help) sub="${words[i]}"; break ;;
    esac
  done

  case "$sub" in
    "")
      COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
      ;;
    help)
      COMPREPLY=($(compgen -W "$commands" -- "$cur"))
      ;;
    serve)
      case "$prev" in
        --log-level) COMPREPLY=($(compgen -W "trace debug info warn error off" -- "$cur")); return ;;
        --log-format) COMPREPLY=($(compgen -W "auto text json" -- "$cur")); return ;;
        --send-path) COMPREPLY=($(compgen -W "sendmsg io_uring" -- "$cur")); return ;;
        --compression) COMPREPLY=($(compgen -W "on off" -- "$cur")); return ;;
        --fsync) COMPREPLY=($(compgen -W "always batch off" -- "$cur")); return ;;
        --data-dir) _filedir -d; return ;;
        --room)
          COMPREPLY=($(compgen -W "/nowtime:ticker /PATH:relay /PATH:feed /PATH:echo /PATH/*:relay" -- "$cur"))
          return ;;
        --interval) COMPREPLY=($(compgen -W "200ms 1s 1.5s 2m" -- "$cur")); return ;;
        --handshake-timeout|--drain-timeout|--close-timeout|--ping-interval|--pong-timeout|--idle-timeout|--history-ttl|--idempotency-window)
          COMPREPLY=($(compgen -W "1s 5s 10s 30s" -- "$cur")); return ;;
        --config) _filedir json; return ;;
        --tls-cert|--tls-key) _filedir pem; return ;;
        --jwt-secret-file) _filedir; return ;;
        --host|--port|--max-message-size|--send-buffer|--threads|--history|--api-key|--stdin|--max-connections|--max-connections-per-ip|--handshake-rate|--max-path-length|--max-rooms-per-family|--max-subscriptions|--compression-min-size|--allow-origin|--jwt-secret|--broker) return ;;
      esac
      COMPREPLY=($(compgen -W "--help --config --host --port --room --interval --history --history-ttl --max-message-size --send-buffer --threads --send-path --api-key --stdin --handshake-timeout --drain-timeout --close-timeout --ping-interval --pong-timeout --idle-timeout --max-connections --max-connections-per-ip --handshake-rate --max-path-length --max-rooms-per-family --max-subscriptions --compression --compression-min-size --allow-origin --public-metrics --jwt-secret --jwt-secret-file --tls-cert --tls-key --broker --idempotency-window --data-dir --fsync --log-level --log-format" -- "$cur"))
      ;;
    client)
      case "$prev" in
        --cacert) _filedir pem; return ;;
        --timeout|--idle-timeout|--handshake-timeout)
          COMPREPLY=($(compgen -W "500ms 1s 10s 1m" -- "$cur")); return ;;
        -n|--count|--send|--subscribe|-H|--header|--origin|--token|--proxy|--max-message-size|--reconnect-max) return ;;
      esac
      if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "--help --async --sync -n --count --subscribe --send --send-stdin --timeout --idle-timeout --handshake-timeout --echo -H --header --origin --token --proxy --cacert -k --insecure --max-message-size --compress --stats --reconnect --reconnect-max" -- "$cur"))
      else
        COMPREPLY=($(compgen -W "ws://localhost:5000/nowtime wss://" -- "$cur"))
      fi
      ;;
    publish)
      case "$prev" in
        --cacert) _filedir pem; return ;;
        --event|--api-key|--window|--max-message-size|--timeout|--handshake-timeout|--proxy|--reconnect-max|--key-prefix) return ;;
      esac
      if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "--help --event --api-key --json --strict --window --reconnect --reconnect-max --key-prefix --max-message-size --timeout --handshake-timeout --proxy --cacert -k --insecure" -- "$cur"))
      else
        COMPREPLY=($(compgen -W "http://localhost:5000/" -- "$cur"))
      fi
      ;;
    bench)
      if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "--help --subscribers --publishers --messages --size --window --threads --rate --server-pid --subscribe-url --rooms --json --timeout --settle --payload --compress --cacert -k --insecure" -- "$cur"))
      fi
      ;;
  esac
}
complete -F _wspush wspush
