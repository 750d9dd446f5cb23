#!/usr/bin/perl
# fcgispec probe app, contract version 1, on Perl's FCGI module (libfcgi-perl): an FCGI::OpenSocket and an
# FCGI::Request loop, one request at a time. The answers come from FcgispecProbe.pm beside this file.
#
# What FCGI.pm cannot do: set appStatus (it has no FCGX_SetExitStatus; PROBE_EXIT is checked, appStatus is
# always 0). Params pass through libfcgi as "NAME=VALUE" C strings: a value is cut at its first NUL byte.
# FCGI_DATA is read with the undocumented FCGI::StartFilterData for the Filter role.
#
# Usage: [PROBE_CHILDREN=N] probe.pl 127.0.0.1:PORT | /path/to/socket
use strict;
use warnings;
use FindBin ();
use lib $FindBin::Bin;
use FCGI;
use IO::Handle;
use FcgispecProbe;

my $where = shift @ARGV or die "usage: $0 HOST:PORT | SOCKET-PATH\n";
my $socket = FCGI::OpenSocket($where, 128) or die "probe.pl: cannot listen on $where: $!\n";
chmod 0666, $where if $where =~ m{\A/};

# PROBE_CHILDREN=N: N processes accept on the socket (FCGI.pm serves one request at a time per process).
my $children = ($ENV{PROBE_CHILDREN} // '1') =~ /\A([1-9][0-9]?)\z/ ? $1 : 1;
for (2 .. $children) {
    my $pid = fork;
    die "probe.pl: fork: $!\n" unless defined $pid;
    last if $pid == 0;
}

my ($in, $out, $err) = (IO::Handle->new, IO::Handle->new, IO::Handle->new);
my %params;
# Flags 0: an interrupted accept is retried. TERM keeps its default action (a Perl handler would wait for
# the blocking accept to return, which it never does) and ends the process at once.
my $request = FCGI::Request($in, $out, $err, \%params, $socket, 0);
$SIG{PIPE} = 'IGNORE';

sub read_all {
    my ($fh) = @_;
    my ($all, $chunk) = ('', '');
    while (my $n = read($fh, $chunk, 65536)) {
        $all .= $chunk;
    }
    return $all;
}

while ($request->Accept() >= 0) {
    binmode $_ for $in, $out, $err;
    my $role = $params{FCGI_ROLE} // 'RESPONDER';
    my $stdin = read_all($in);
    my $data = '';
    if ($role eq 'FILTER') {
        # After FCGI_STDIN ends, the input handle reads FCGI_DATA. @see §6.4
        $data = read_all($in) if FCGI::StartFilterData($request) == 0;
    }
    FcgispecProbe::answer(\%params, $role, $stdin, $data, $out, $err, { data => 1, stderr => 1 });
    $request->Finish();
}
