import ArgumentParser

/// `smtp-inspect`: the command line of README.md "Commands", one subcommand per file.
@main
struct SMTPInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smtp-inspect",
        abstract: "Inline SMTP/ESMTP inspection for a Linux router, configured like Cisco IOS Firewall.",
        discussion: """
            iptables sends TCP/25 to NFQUEUE; smtp-inspect checks every client command against the \
            policy's allow-list, masks illegal ones in place with 'x', tracks the server's replies \
            and reinjects the packets. See README.md.
            """,
        subcommands: [
            RunCommand.self, ReplayCommand.self, RulesCommand.self, CheckCommand.self, ShowCommand.self,
            DebugCommand.self, UndebugCommand.self, ClearCommand.self, ReloadCommand.self,
        ]
    )
}
