# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cabot_global_optspecs
    string join \n c/config= state= q/quiet v/verbose color= h/help V/version
end

function __fish_cabot_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cabot_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cabot_using_subcommand
    set -l cmd (__fish_cabot_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cabot -n "__fish_cabot_needs_command" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_needs_command" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_needs_command" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_needs_command" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_needs_command" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cabot -n "__fish_cabot_needs_command" -s V -l version -d 'Print version'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "run" -d 'Run the checks that are due, record results, update statuses'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "status" -d 'Show services and their checks, for humans, scripts (--json) and Nagios (--nagios)'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "serve-status" -d 'Answer /status/ with "Checks running" or "Checks not running", and a status page'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "migrate" -d 'Create or upgrade the state database, after a backup'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "validate" -d 'Check the config and print every problem with its line and column'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "ack" -d 'Acknowledge a service\'s incident: no repeats or de-escalation alerts until it expires'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "unack" -d 'Remove a service\'s acknowledgement'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "silence" -d 'Mute every alert for a service for a while; checks keep running'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "unsilence" -d 'Remove a service\'s silence'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "test-alert" -d 'Send a test alert through a channel and show each provider\'s answer'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "history" -d 'Incidents and uptime of a service or a check over a time range'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "alerts" -d 'The alerts of late and what became of each delivery'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "ping" -d 'Record a ping for a heartbeat check (from a cron job or backup script)'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "oncall" -d 'Who is on duty now and for the next 7 days, per rota'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "incident" -d 'Tell customers on the status page: open, update, resolve and list incident posts'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "maintenance" -d 'Plan dated maintenance windows, shown ahead on the status page'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "import" -d 'Write a config from Arachnys\' Cabot or Uptime Kuma, secrets in files, with a report'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "backup" -d 'Write a consistent copy of the state while runs go on'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "restore" -d 'Put a backup back as the state, safely while serve-status runs'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "man" -d 'Print the man page (roff), or write every page into a folder'
complete -c cabot -n "__fish_cabot_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cabot -n "__fish_cabot_using_subcommand run" -l service -d 'Only this service\'s checks (repeatable)' -r
complete -c cabot -n "__fish_cabot_using_subcommand run" -l check -d 'Only this check (repeatable)' -r
complete -c cabot -n "__fish_cabot_using_subcommand run" -l jobs -d 'How many checks run at once' -r
complete -c cabot -n "__fish_cabot_using_subcommand run" -l fail-on -d 'Exit 1 (warning) or 2 (error, critical) when a check run now failed at this importance or above' -r -f -a "warning\t''
error\t''
critical\t''"
complete -c cabot -n "__fish_cabot_using_subcommand run" -l wait -d 'Wait this long while `cabot migrate` has the state to itself [default: 30s]' -r
complete -c cabot -n "__fish_cabot_using_subcommand run" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand run" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand run" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand run" -l all -d 'Run every check, due or not'
complete -c cabot -n "__fish_cabot_using_subcommand run" -l no-alerts -d 'Decide and record nothing about alerts'
complete -c cabot -n "__fish_cabot_using_subcommand run" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand run" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand run" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand status" -l service -d 'Only this service (repeatable)' -r
complete -c cabot -n "__fish_cabot_using_subcommand status" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand status" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand status" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand status" -l json -d 'Print JSON'
complete -c cabot -n "__fish_cabot_using_subcommand status" -l nagios -d 'Print one Nagios plugin line with perfdata'
complete -c cabot -n "__fish_cabot_using_subcommand status" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand status" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand status" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand serve-status" -l listen -d 'The address to listen on [default: the config\'s status.listen, else 127.0.0.1:5001]' -r
complete -c cabot -n "__fish_cabot_using_subcommand serve-status" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand serve-status" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand serve-status" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand serve-status" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand serve-status" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand serve-status" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand migrate" -l wait -d 'Wait this long for the runs that are using the state instead of exiting 75 at once' -r
complete -c cabot -n "__fish_cabot_using_subcommand migrate" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand migrate" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand migrate" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand migrate" -l dry-run -d 'Say what would be done, change nothing'
complete -c cabot -n "__fish_cabot_using_subcommand migrate" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand migrate" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand migrate" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand validate" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand validate" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand validate" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand validate" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand validate" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand validate" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand ack" -l for -d 'How long the acknowledgement lasts [default: alerting.ack_expiry, 20m]' -r
complete -c cabot -n "__fish_cabot_using_subcommand ack" -l by -d 'Who is on it [default: $SUDO_USER, else $USER]' -r
complete -c cabot -n "__fish_cabot_using_subcommand ack" -l note -d 'A word for the others' -r
complete -c cabot -n "__fish_cabot_using_subcommand ack" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand ack" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand ack" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand ack" -l force -d 'Replace an acknowledgement that someone else\'s is still in force'
complete -c cabot -n "__fish_cabot_using_subcommand ack" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand ack" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand ack" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand unack" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand unack" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand unack" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand unack" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand unack" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand unack" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand silence" -l for -d 'How long' -r
complete -c cabot -n "__fish_cabot_using_subcommand silence" -l by -d 'Who asked [default: $SUDO_USER, else $USER]' -r
complete -c cabot -n "__fish_cabot_using_subcommand silence" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand silence" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand silence" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand silence" -l all -d 'Every service (a planned outage of everything)'
complete -c cabot -n "__fish_cabot_using_subcommand silence" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand silence" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand silence" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand unsilence" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand unsilence" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand unsilence" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand unsilence" -l all -d 'Every service'
complete -c cabot -n "__fish_cabot_using_subcommand unsilence" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand unsilence" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand unsilence" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand test-alert" -l to -d 'Send to this user only [default: the channel\'s `to:` and every user of the services that use it]' -r
complete -c cabot -n "__fish_cabot_using_subcommand test-alert" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand test-alert" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand test-alert" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand test-alert" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand test-alert" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand test-alert" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand history" -l since -d 'How far back to look' -r
complete -c cabot -n "__fish_cabot_using_subcommand history" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand history" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand history" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand history" -l json -d 'Print JSON'
complete -c cabot -n "__fish_cabot_using_subcommand history" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand history" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand history" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand alerts" -l since -d 'How far back to look' -r
complete -c cabot -n "__fish_cabot_using_subcommand alerts" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand alerts" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand alerts" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand alerts" -l json -d 'Print JSON'
complete -c cabot -n "__fish_cabot_using_subcommand alerts" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand alerts" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand alerts" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand ping" -l message -d 'A word about it, shown with the check' -r
complete -c cabot -n "__fish_cabot_using_subcommand ping" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand ping" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand ping" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand ping" -l fail -d 'The job failed: the heartbeat fails at once'
complete -c cabot -n "__fish_cabot_using_subcommand ping" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand ping" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand ping" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and not __fish_seen_subcommand_from override help" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and not __fish_seen_subcommand_from override help" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and not __fish_seen_subcommand_from override help" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and not __fish_seen_subcommand_from override help" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and not __fish_seen_subcommand_from override help" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and not __fish_seen_subcommand_from override help" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and not __fish_seen_subcommand_from override help" -f -a "override" -d 'Put USER on duty for ROTA from now, whatever the rotation says (a swap, a sick day)'
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and not __fish_seen_subcommand_from override help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and __fish_seen_subcommand_from override" -l for -d 'How long' -r
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and __fish_seen_subcommand_from override" -l by -d 'Who arranged it [default: $SUDO_USER, else $USER]' -r
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and __fish_seen_subcommand_from override" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and __fish_seen_subcommand_from override" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and __fish_seen_subcommand_from override" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and __fish_seen_subcommand_from override" -l cancel -d 'End the rota\'s overrides now, those in force and those to come: the rota\'s own schedule is back in charge'
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and __fish_seen_subcommand_from override" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and __fish_seen_subcommand_from override" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and __fish_seen_subcommand_from override" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and __fish_seen_subcommand_from help" -f -a "override" -d 'Put USER on duty for ROTA from now, whatever the rotation says (a swap, a sick day)'
complete -c cabot -n "__fish_cabot_using_subcommand oncall; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and not __fish_seen_subcommand_from open update resolve list help" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand incident; and not __fish_seen_subcommand_from open update resolve list help" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand incident; and not __fish_seen_subcommand_from open update resolve list help" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand incident; and not __fish_seen_subcommand_from open update resolve list help" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and not __fish_seen_subcommand_from open update resolve list help" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and not __fish_seen_subcommand_from open update resolve list help" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and not __fish_seen_subcommand_from open update resolve list help" -f -a "open" -d 'Open an incident post, shown on the status page above the services'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and not __fish_seen_subcommand_from open update resolve list help" -f -a "update" -d 'Add an update to an open incident post'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and not __fish_seen_subcommand_from open update resolve list help" -f -a "resolve" -d 'Resolve an incident post: it leaves the page for the history'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and not __fish_seen_subcommand_from open update resolve list help" -f -a "list" -d 'The open posts and those resolved in the last 90 days, each update with its author'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and not __fish_seen_subcommand_from open update resolve list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from open" -l services -d 'The services it concerns, comma-separated' -r
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from open" -l status -d 'Where it stands' -r -f -a "investigating\t''
identified\t''
monitoring\t''"
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from open" -l message -d 'What to tell customers [default: "We are investigating."]' -r
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from open" -l by -d 'Who writes it [default: $SUDO_USER, else $USER]' -r
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from open" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from open" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from open" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from open" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from open" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from open" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from update" -l status -r -f -a "investigating\t''
identified\t''
monitoring\t''"
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from update" -l message -r
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from update" -l by -r
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from update" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from update" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from update" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from update" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from resolve" -l message -r
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from resolve" -l by -r
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from resolve" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from resolve" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from resolve" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from resolve" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from resolve" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from resolve" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from list" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from list" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from list" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "open" -d 'Open an incident post, shown on the status page above the services'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "update" -d 'Add an update to an open incident post'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "resolve" -d 'Resolve an incident post: it leaves the page for the history'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "list" -d 'The open posts and those resolved in the last 90 days, each update with its author'
complete -c cabot -n "__fish_cabot_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and not __fish_seen_subcommand_from add list cancel help" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and not __fish_seen_subcommand_from add list cancel help" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and not __fish_seen_subcommand_from add list cancel help" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and not __fish_seen_subcommand_from add list cancel help" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and not __fish_seen_subcommand_from add list cancel help" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and not __fish_seen_subcommand_from add list cancel help" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and not __fish_seen_subcommand_from add list cancel help" -f -a "add" -d 'Plan a window: the status page shows it from now on'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and not __fish_seen_subcommand_from add list cancel help" -f -a "list" -d 'The windows that have not ended, in the state and in the config'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and not __fish_seen_subcommand_from add list cancel help" -f -a "cancel" -d 'Cancel a window that has not ended'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and not __fish_seen_subcommand_from add list cancel help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from add" -l services -d 'The services it covers, comma-separated [default: every service]' -r
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from add" -l from -d 'When it starts: "2026-12-12 02:00"' -r
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from add" -l to -d 'When it ends: "2026-12-12 04:00"' -r
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from add" -l time-zone -d 'The time zone of --from and --to, and of the page\'s times for it' -r
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from add" -l message -d 'What customers read: "Database upgrade"' -r
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from add" -l by -d 'Who plans it [default: $SUDO_USER, else $USER]' -r
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from add" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from add" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from add" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from list" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from list" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from list" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from cancel" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from cancel" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from cancel" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from cancel" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from cancel" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from help" -f -a "add" -d 'Plan a window: the status page shows it from now on'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from help" -f -a "list" -d 'The windows that have not ended, in the state and in the config'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Cancel a window that has not ended'
complete -c cabot -n "__fish_cabot_using_subcommand maintenance; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cabot -n "__fish_cabot_using_subcommand import; and not __fish_seen_subcommand_from cabot uptime-kuma help" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and not __fish_seen_subcommand_from cabot uptime-kuma help" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and not __fish_seen_subcommand_from cabot uptime-kuma help" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand import; and not __fish_seen_subcommand_from cabot uptime-kuma help" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand import; and not __fish_seen_subcommand_from cabot uptime-kuma help" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand import; and not __fish_seen_subcommand_from cabot uptime-kuma help" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand import; and not __fish_seen_subcommand_from cabot uptime-kuma help" -f -a "cabot" -d 'From Arachnys\' Cabot: `manage.py dumpdata --natural-foreign` output, or its REST API'
complete -c cabot -n "__fish_cabot_using_subcommand import; and not __fish_seen_subcommand_from cabot uptime-kuma help" -f -a "uptime-kuma" -d 'From Uptime Kuma\'s SQLite database (kuma.db, 1.23 or 2.x)'
complete -c cabot -n "__fish_cabot_using_subcommand import; and not __fish_seen_subcommand_from cabot uptime-kuma help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -l dump -d 'The dump: `python manage.py dumpdata --natural-foreign --indent 2 > cabot.json`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -l api -d 'Cabot\'s REST API instead of a dump (lossy: the report says what it lacks)' -r
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -l user -d 'The API\'s user (basic auth)' -r
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -l password-file -d 'A file holding that user\'s password' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -l env -d 'Cabot\'s environment file (production.env): channel credentials, alert intervals, the rota' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -s o -l output -d 'Where to write the config (an existing file only if an import wrote it)' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -l secrets-dir -d 'Where each secret is written as a file of its own (mode 0600), named by `*_file`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from cabot" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from uptime-kuma" -l db -d 'Uptime Kuma\'s database: data/kuma.db (stop Kuma or copy it first)' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from uptime-kuma" -s o -l output -d 'Where to write the config (an existing file only if an import wrote it)' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from uptime-kuma" -l secrets-dir -d 'Where each secret is written as a file of its own (mode 0600), named by `*_file`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from uptime-kuma" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from uptime-kuma" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from uptime-kuma" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from uptime-kuma" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from uptime-kuma" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from uptime-kuma" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "cabot" -d 'From Arachnys\' Cabot: `manage.py dumpdata --natural-foreign` output, or its REST API'
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "uptime-kuma" -d 'From Uptime Kuma\'s SQLite database (kuma.db, 1.23 or 2.x)'
complete -c cabot -n "__fish_cabot_using_subcommand import; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cabot -n "__fish_cabot_using_subcommand backup" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand backup" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand backup" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand backup" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand backup" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand backup" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand restore" -l wait -d 'How long to wait for runs that are alive [default: do not wait]' -r
complete -c cabot -n "__fish_cabot_using_subcommand restore" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand restore" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand restore" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand restore" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand restore" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand restore" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand completions" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand completions" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand completions" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand completions" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand completions" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand completions" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand man" -l dir -d 'Write every page (cabot.1, cabot-COMMAND.1, cabot.yaml.5) into this folder instead of printing cabot(1)' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand man" -s c -l config -d 'The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand man" -l state -d 'The state database, instead of the config\'s `state:`' -r -F
complete -c cabot -n "__fish_cabot_using_subcommand man" -l color -d 'Colour the output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cabot -n "__fish_cabot_using_subcommand man" -s q -l quiet -d 'Print only errors'
complete -c cabot -n "__fish_cabot_using_subcommand man" -s v -l verbose -d 'Print more: each check\'s result as it finishes'
complete -c cabot -n "__fish_cabot_using_subcommand man" -s h -l help -d 'Print help'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "run" -d 'Run the checks that are due, record results, update statuses'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "status" -d 'Show services and their checks, for humans, scripts (--json) and Nagios (--nagios)'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "serve-status" -d 'Answer /status/ with "Checks running" or "Checks not running", and a status page'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "migrate" -d 'Create or upgrade the state database, after a backup'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "validate" -d 'Check the config and print every problem with its line and column'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "ack" -d 'Acknowledge a service\'s incident: no repeats or de-escalation alerts until it expires'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "unack" -d 'Remove a service\'s acknowledgement'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "silence" -d 'Mute every alert for a service for a while; checks keep running'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "unsilence" -d 'Remove a service\'s silence'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "test-alert" -d 'Send a test alert through a channel and show each provider\'s answer'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "history" -d 'Incidents and uptime of a service or a check over a time range'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "alerts" -d 'The alerts of late and what became of each delivery'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "ping" -d 'Record a ping for a heartbeat check (from a cron job or backup script)'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "oncall" -d 'Who is on duty now and for the next 7 days, per rota'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "incident" -d 'Tell customers on the status page: open, update, resolve and list incident posts'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "maintenance" -d 'Plan dated maintenance windows, shown ahead on the status page'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "import" -d 'Write a config from Arachnys\' Cabot or Uptime Kuma, secrets in files, with a report'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "backup" -d 'Write a consistent copy of the state while runs go on'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "restore" -d 'Put a backup back as the state, safely while serve-status runs'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "completions" -d 'Print shell completions'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "man" -d 'Print the man page (roff), or write every page into a folder'
complete -c cabot -n "__fish_cabot_using_subcommand help; and not __fish_seen_subcommand_from run status serve-status migrate validate ack unack silence unsilence test-alert history alerts ping oncall incident maintenance import backup restore completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cabot -n "__fish_cabot_using_subcommand help; and __fish_seen_subcommand_from oncall" -f -a "override" -d 'Put USER on duty for ROTA from now, whatever the rotation says (a swap, a sick day)'
complete -c cabot -n "__fish_cabot_using_subcommand help; and __fish_seen_subcommand_from incident" -f -a "open" -d 'Open an incident post, shown on the status page above the services'
complete -c cabot -n "__fish_cabot_using_subcommand help; and __fish_seen_subcommand_from incident" -f -a "update" -d 'Add an update to an open incident post'
complete -c cabot -n "__fish_cabot_using_subcommand help; and __fish_seen_subcommand_from incident" -f -a "resolve" -d 'Resolve an incident post: it leaves the page for the history'
complete -c cabot -n "__fish_cabot_using_subcommand help; and __fish_seen_subcommand_from incident" -f -a "list" -d 'The open posts and those resolved in the last 90 days, each update with its author'
complete -c cabot -n "__fish_cabot_using_subcommand help; and __fish_seen_subcommand_from maintenance" -f -a "add" -d 'Plan a window: the status page shows it from now on'
complete -c cabot -n "__fish_cabot_using_subcommand help; and __fish_seen_subcommand_from maintenance" -f -a "list" -d 'The windows that have not ended, in the state and in the config'
complete -c cabot -n "__fish_cabot_using_subcommand help; and __fish_seen_subcommand_from maintenance" -f -a "cancel" -d 'Cancel a window that has not ended'
complete -c cabot -n "__fish_cabot_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "cabot" -d 'From Arachnys\' Cabot: `manage.py dumpdata --natural-foreign` output, or its REST API'
complete -c cabot -n "__fish_cabot_using_subcommand help; and __fish_seen_subcommand_from import" -f -a "uptime-kuma" -d 'From Uptime Kuma\'s SQLite database (kuma.db, 1.23 or 2.x)'
