/// One line of `debug ip inspect smtp`, as the seed prints them (BEHAVIOR.md §8).
///
/// The numbers are ours, not Cisco's: `cmd_re_state` is the state of the policy's verb trie while
/// the verb is read, then the argument parser's phase; `match id` of a verb is its `SMTPVerb` raw
/// value; `match id` at the end of a command line is 0 for a passed line and the number of masked
/// bytes' first offset + 1 otherwise; `reply_re_state` is the reply parser's phase; a reply's
/// `match id` is its code. Line indexes count command lines from 1 and reply lines from 0, as
/// the seed's trace does.
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
