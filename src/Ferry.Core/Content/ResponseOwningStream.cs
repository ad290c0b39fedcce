namespace Ferry.Content;

/// <summary>A forward-only view of an HTTP response body that disposes the body and the response with it.</summary>
internal sealed class ResponseOwningStream(Stream inner, HttpResponseMessage response) : ForwardOnlyStream(inner)
{
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.Dispose();
            response.Dispose();
        }

        base.Dispose(disposing);
    }
}
