/// One line of `debug ip inspect smtp`, as the seed prints them (docs/behaviour.md §8).
///
/// The shape is Cisco's; the numbers are ours (README "debug ip inspect smtp"):
/// - `Cmd len` / `Reply len`: bytes of the line so far, terminator included; `match_len`: bytes of
///   the line in this packet.
/// - `cmd_re_state`: the verb trie's state while the verb is read, then the argument parser's
///   phase (`CommandLineStateMachine.Phase` raw value); `reply_re_state`: the reply parser's
///   phase (`ReplyLineStateMachine.Phase` raw value, 5 = text).
/// - `VERB - match id`: the verb (`SMTPVerb` raw value: DATA 1, HELO 2 … STARTTLS 16).
/// - `CMD PARAM - match id`: 0 when the line passed, 1 when it was masked.
/// - `REPLY match id`: the reply code. `reply_type`: what the reply answers (GREETING, EHLO,
///   DATA, AUTH, STARTTLS, QUIT, MESSAGE or OTHERS).
/// - `index`: command lines count from 1, reply lines from 0, as in the seed.
public enum SMTPTraceRecord: Equatable, Sendable, CustomStringConvertible {
    case verb(commandLength: Int, matchLength: Int, state: Int)
    case verbMatch(id: Int)
    case parameter(commandLength: Int, matchLength: Int, state: Int)
    case parameterMatch(id: Int)
    case endOfCommandLine(index: Int, length: Int)
    case replyType(String)
    case reply(type: String, length: Int, matchLength: Int, state: Int)
    case replyMatch(type: String, id: Int)
    case endOfReplyLine(index: Int, length: Int)
    case modeChange(String)

    /// The text after the IOS timestamp, e.g. `CBAC SMTP: VERB - match id:5`.
    public var description: String {
        switch self {
        case let .verb(length, match, state):
            "CBAC SMTP: VERB - Cmd len:\(length), match_len:\(match), cmd_re_state:\(state)"
        case let .verbMatch(id):
            "CBAC SMTP: VERB - match id:\(id)"
        case let .parameter(length, match, state):
            "CBAC SMTP: CMD PARAM - Cmd len:\(length), match_len:\(match), cmd_re_state:\(state)"
        case let .parameterMatch(id):
            "CBAC SMTP: CMD PARAM - match id:\(id)"
        case let .endOfCommandLine(index, length):
            "CBAC SMTP: End Of Command Line - index:\(index), len:\(length)"
        case let .replyType(type):
            "CBAC SMTP: reply_type \(type)"
        case let .reply(type, length, match, state):
            "CBAC SMTP: \(type) REPLY - Reply len: \(length), match_len:\(match), reply_re_state:\(state)"
        case let .replyMatch(type, id):
            "CBAC SMTP: \(type) REPLY match id:\(id)"
        case let .endOfReplyLine(index, length):
            "CBAC SMTP: End Of Reply Line - index:\(index) ,len:\(length)"
        case let .modeChange(mode):
            "CBAC SMTP: session mode \(mode)"
        }
    }
}
