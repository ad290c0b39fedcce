using Ferry.Errors;

namespace Ferry.Transfer;

/// <summary>A source a transport opened: the source, and the images to ask it for.</summary>
/// <param name="Source">The source (disposed after the run when it is <see cref="IDisposable"/>).</param>
/// <param name="Images">The images as the source names them.</param>
public sealed record TransportSource(IImageSource Source, IReadOnlyList<string> Images);

/// <summary>
/// A transport of your own beside the built-in ones (<c>docker://</c>, <c>docker-daemon:</c>, the archive transports):
/// a prefix, and how a reference after it opens a source, a sink, or both. Registered per run in
/// <see cref="Copying.CopyRequest.Transports"/>; every pair with the built-in transports then works, with the engine's
/// rules (platforms, names, manifest format, bulk failures) applied as for any source.
/// </summary>
/// <param name="Prefix">The prefix, with its colon (<c>memory:</c>).</param>
/// <param name="OpenSource">Opens the source a reference names; <see langword="null"/> when the transport is never read.</param>
/// <param name="OpenSink">Opens the sink a reference names; <see langword="null"/> when it is never written.</param>
public sealed record ImageTransport(string Prefix, Func<string, CancellationToken, Task<TransportSource>>? OpenSource = null, Func<string, IImageSink>? OpenSink = null)
{
    internal Task<TransportSource> SourceAsync(string reference, CancellationToken cancellationToken) =>
        OpenSource?.Invoke(reference, cancellationToken) ?? throw new InvalidInputException($"{Prefix}{reference}: {Prefix} is a destination only");

    internal IImageSink Sink(string reference) =>
        OpenSink?.Invoke(reference) ?? throw new InvalidInputException($"{Prefix}{reference}: {Prefix} is a source only");
}
