import CohortCore
import Testing

@testable import CohortRaft

/// etcd-style interaction test: a scripted scenario whose message trace is compared with a
/// golden transcript, so a behaviour change shows up as a readable diff.
@Suite("Raft golden traces")
struct RaftGoldenTraceTests {
    static func render(_ message: RaftMessage) -> String {
        let head = "\(message.from)->\(message.to) \(message.term)"
        switch message.body {
        case .voteRequest(let request):
            let kind = request.isPreVote ? "PreVote" : "Vote"
            return "\(head) \(kind) last=\(request.lastLogIndex)@\(request.lastLogTerm)"
        case .voteResponse(let isPreVote, let granted):
            return "\(head) \(isPreVote ? "PreVote" : "Vote")Response granted=\(granted)"
        case .appendEntriesRequest(let request):
            let entries = request.entries.map { "\($0.index)@\($0.term)" }.joined(separator: ",")
            return
                "\(head) Append prev=\(request.previousLogIndex)@\(request.previousLogTerm) [\(entries)] commit=\(request.leaderCommit)"
        case .appendEntriesResponse(.accepted(let matchIndex)):
            return "\(head) AppendResponse match=\(matchIndex)"
        case .appendEntriesResponse(.rejected(let previous, let hintIndex, let hintTerm)):
            return "\(head) AppendResponse reject=\(previous) hint=\(hintIndex)@\(hintTerm)"
        case .heartbeatRequest(let commit, let round):
            return "\(head) Heartbeat commit=\(commit) round=\(round)"
        case .heartbeatResponse(let round):
            return "\(head) HeartbeatResponse round=\(round)"
        default:
            return "\(head) \(message.body)"
        }
    }

    @Test("pre-vote, vote, no-op and one proposal in a three-node group")
    func electionAndProposal() {
        var cluster = TestCluster(voters: 3)
        cluster.campaign(1)
        _ = cluster.propose(1, "x")
        let trace = cluster.delivered.map(Self.render).joined(separator: "\n")
        let golden = """
            n1->n2 t1 PreVote last=i0@t0
            n1->n3 t1 PreVote last=i0@t0
            n2->n1 t1 PreVoteResponse granted=true
            n3->n1 t1 PreVoteResponse granted=true
            n1->n2 t1 Vote last=i0@t0
            n1->n3 t1 Vote last=i0@t0
            n2->n1 t1 VoteResponse granted=true
            n3->n1 t1 VoteResponse granted=true
            n1->n2 t1 Append prev=i0@t0 [i1@t1] commit=i0
            n1->n3 t1 Append prev=i0@t0 [i1@t1] commit=i0
            n2->n1 t1 AppendResponse match=i1
            n3->n1 t1 AppendResponse match=i1
            n1->n2 t1 Append prev=i1@t1 [] commit=i1
            n1->n3 t1 Append prev=i1@t1 [] commit=i1
            n2->n1 t1 AppendResponse match=i1
            n3->n1 t1 AppendResponse match=i1
            n1->n2 t1 Append prev=i1@t1 [i2@t1] commit=i1
            n1->n3 t1 Append prev=i1@t1 [i2@t1] commit=i1
            n2->n1 t1 AppendResponse match=i2
            n3->n1 t1 AppendResponse match=i2
            n1->n2 t1 Append prev=i2@t1 [] commit=i2
            n1->n3 t1 Append prev=i2@t1 [] commit=i2
            n2->n1 t1 AppendResponse match=i2
            n3->n1 t1 AppendResponse match=i2
            """
        #expect(trace == golden, "trace:\n\(trace)")
    }
}
