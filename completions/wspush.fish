# fish completion for wspush. Install: copy to ~/.config/fish/completions/wspush.fish

set -l commands serve client publish bench help
complete -c wspush -f
complete -c wspush -n "not __fish_seen_subcommand_from $commands" -l help -d 'Print help and exit'
complete -c wspush -n "not __fish_seen_subcommand_from $commands" -l version -d 'Print the version and exit'
complete -c wspush -n "not __fish_seen_subcommand_from $commands" -a serve -d 'Run the WebSocket push server'
complete -c wspush -n "not __fish_seen_subcommand_from $commands" -a client -d 'Print a room\'s messages as JSON lines'
complete -c wspush -n "not __fish_seen_subcommand_from $commands" -a publish -d 'Publish events into a room'
complete -c wspush -n "not __fish_seen_subcommand_from $commands" -a bench -d 'Load-test a relay room'
complete -c wspush -n "not __fish_seen_subcommand_from $commands" -a help -d 'Show help for wspush or for one subcommand'
complete -c wspush -n "__fish_seen_subcommand_from help" -a "$commands"

# serve
complete -c wspush -n "__fish_seen_subcommand_from serve" -l help -d 'Print help and exit'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l config -r -F -d 'JSON settings file'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l history -r -d 'Messages kept per room'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l send-buffer -r -d 'Bytes queued per connection'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l threads -r -d 'Event loops for the sessions'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l api-key -r -d 'Require this bearer key on the API'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l stdin -r -d 'Publish stdin lines into this room'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l host -r -d 'Address or name to listen on'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l port -r -d 'TCP port; 0 picks a free one'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l room -r -d 'Room PATH[:KIND], repeatable'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l interval -r -a '200ms 1s 1.5s 2m' -d 'Ticker interval'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l handshake-timeout -r -a '1s 5s 10s' -d 'Time to finish the HTTP request or upgrade'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l drain-timeout -r -a '1s 5s 30s' -d 'Time clients have to close on SIGTERM'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l close-timeout -r -a '1s 5s 10s' -d 'Wait for a client close frame'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l max-message-size -r -d 'Largest client message in bytes'
complete -c wspush -n "__fish_seen_subcommand_from serve" -l log-level -r -a 'trace debug info warn error off' -d 'Log level on stderr'

# client
set -l c "__fish_seen_subcommand_from client"
complete -c wspush -n $c -l help -d 'Print help and exit'
complete -c wspush -n $c -l async -d 'Run on the Asio event loop (default)'
complete -c wspush -n $c -l sync -d 'Use the blocking client'
complete -c wspush -n $c -s n -l count -r -d 'Print N messages, then close'
complete -c wspush -n $c -l send -r -d 'Send this JSON once connected'
complete -c wspush -n $c -l send-stdin -d 'Send each line of stdin'
complete -c wspush -n $c -l timeout -r -d 'Give up after this long overall'
complete -c wspush -n $c -l idle-timeout -r -d 'Give up after this long without a message'
complete -c wspush -n $c -l handshake-timeout -r -d 'Wait this long for the handshake answer'
complete -c wspush -n $c -l echo -d 'Send every received frame back'
complete -c wspush -n $c -s H -l header -r -d 'Extra request header'
complete -c wspush -n $c -l origin -r -d 'Origin header'
complete -c wspush -n $c -l token -r -d 'Send Authorization: Bearer TOKEN'
complete -c wspush -n $c -l proxy -r -d 'HTTP CONNECT proxy'
complete -c wspush -n $c -l cacert -r -F -d 'Trusted CA file (PEM)'
complete -c wspush -n $c -s k -l insecure -d 'Do not verify the certificate'
complete -c wspush -n $c -l max-message-size -r -d 'Largest message accepted'
complete -c wspush -n $c -l stats -d 'Print a JSON summary on stderr'
complete -c wspush -n $c -l reconnect -d 'Reconnect and resume with since='
complete -c wspush -n $c -l reconnect-max -r -d 'Longest wait between attempts'

# publish
set -l p "__fish_seen_subcommand_from publish"
complete -c wspush -n $p -l help -d 'Print help and exit'
complete -c wspush -n $p -l event -r -d 'Event name'
complete -c wspush -n $p -l api-key -r -d 'The server API key'
complete -c wspush -n $p -l json -d 'Only JSON lines'
complete -c wspush -n $p -l strict -d 'Stop at the first bad line'
complete -c wspush -n $p -l window -r -d 'Events in flight'
complete -c wspush -n $p -l max-message-size -r -d 'Largest event'
complete -c wspush -n $p -l timeout -r -d 'Give up after'
complete -c wspush -n $p -l proxy -r -d 'HTTP CONNECT proxy'
complete -c wspush -n $p -l cacert -r -F -d 'Trusted CA file'
complete -c wspush -n $p -s k -l insecure -d 'Do not verify the certificate'

# bench
set -l b "__fish_seen_subcommand_from bench"
complete -c wspush -n $b -l help -d 'Print help and exit'
complete -c wspush -n $b -l subscribers -r -d 'Subscribers'
complete -c wspush -n $b -l publishers -r -d 'Publishers'
complete -c wspush -n $b -l messages -r -d 'Messages per publisher'
complete -c wspush -n $b -l size -r -d 'Bytes per message'
complete -c wspush -n $b -l window -r -d 'Messages in flight per publisher'
complete -c wspush -n $b -l rate -r -d 'Probes per second per publisher'
complete -c wspush -n $b -l server-pid -r -d 'Server to measure'
complete -c wspush -n $b -l json -d 'One JSON line on stdout'
complete -c wspush -n $b -l timeout -r -d 'Give up after'
complete -c wspush -n $b -l settle -r -d 'Idle time before measuring RSS'
