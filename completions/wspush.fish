# fish completion for wspush. Install: copy to ~/.config/fish/completions/wspush.fish

set -l commands serve help
complete -c wspush -f
complete -c wspush -n "not __fish_seen_subcommand_from $commands" -l help -d 'Print help and exit'
complete -c wspush -n "not __fish_seen_subcommand_from $commands" -l version -d 'Print the version and exit'
complete -c wspush -n "not __fish_seen_subcommand_from $commands" -a serve -d 'Run the WebSocket push server'
complete -c wspush -n "not __fish_seen_subcommand_from $commands" -a help -d 'Show help for wspush or for one subcommand'
complete -c wspush -n "__fish_seen_subcommand_from help" -a "$commands"

# serve
complete -c wspush -n "__fish_seen_subcommand_from serve" -l help -d 'Print help and exit'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l host -r -d 'Address or name to listen on'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l port -r -d 'TCP port; 0 picks a free one'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l room -r -d 'Room PATH[:KIND], repeatable'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l interval -r -a '200ms 1s 1.5s 2m' -d 'Ticker interval'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l max-message-size -r -d 'Largest client message in bytes'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l log-level -r -a 'trace debug info warn error off' -d 'Log level on stderr'
